//! The `navis` command line: the server and the admin commands, sharing one set of settings.
use std::{io::Read, sync::Arc};

use chrono::NaiveDate;
use clap::{Parser, Subcommand};

use crate::config::{Settings, SettingsArgs};
use crate::core::{clock::SystemClock, scope::Access};
use crate::service::keys::expiry_from_date;

#[derive(Debug, Parser)]
#[command(
    name = "navis",
    version,
    about = "Navis: a self-hostable Navis Ops MCP server, guarded by API keys and a built-in OAuth 2.1 server",
    long_about = "Navis serves a personal workspace (projects, tasks, …) to AI assistants over MCP, guarded by \
`nops_` API keys and a built-in OAuth 2.1 authorization server (web pages at /signup, /signin and \
/settings/connected-apps).\n\nSettings come from flags, then NAVIS_* environment variables, then the --config TOML file, then defaults. \
The admin commands read the same settings, so they find the server's database (they work while it runs).",
    after_help = "Examples:\n  navis serve\n  navis user create --email ada@example.com --password-stdin <<< 'a long password'\n  navis user set-timezone --email ada@example.com --time-zone Europe/Berlin\n  navis key create --user ada@example.com --name laptop --scope write --expires 2027-01-31\n  navis key list --user ada@example.com\n  navis key revoke --user ada@example.com nops_7Hq2mZ0aXk4LwP9c"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (creating and migrating the database on first start)
    Serve,
    /// Create or update the database schema, then exit
    Migrate,
    /// Manage user accounts
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --password-stdin a random password is generated and printed once
    Create {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (first line)
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (a forgotten one) and sign out every browser of theirs. Without
    /// --password-stdin a random password is generated and printed once
    SetPassword {
        #[arg(long)]
        email: String,
        /// Read the password from standard input (first line)
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's time zone (an IANA name such as Europe/Berlin; the default is UTC): "today",
    /// all-day events and working hours are read in it
    SetTimezone {
        #[arg(long)]
        email: String,
        #[arg(long, value_name = "IANA_NAME")]
        time_zone: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print only the token on stdout (shown this once)
    Create {
        /// The owner's email
        #[arg(long)]
        user: String,
        /// A name to recognise the key by
        #[arg(long)]
        name: String,
        /// read = mcp:read; write = mcp:write (read + write)
        #[arg(long, value_parser = ["read", "write"])]
        scope: String,
        /// Last day before the key stops working: it expires at 00:00 UTC on this date (YYYY-MM-DD)
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<NaiveDate>,
    },
    /// List a user's API keys (never the tokens)
    List {
        #[arg(long)]
        user: String,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key; it fails on the next request
    Revoke {
        #[arg(long)]
        user: String,
        /// The key's id as `navis key list` shows it (nops_…)
        id: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::resolve(&cli.settings)?;
    match cli.command {
        Command::Serve => crate::server::serve(settings).await,
        Command::Migrate => {
            crate::server::open_store(&settings).await?;
            eprintln!("database is up to date: {}", settings.database_url);
            Ok(())
        }
        Command::User(cmd) => {
            let app = crate::server::app(&settings, Arc::new(SystemClock)).await?;
            let (UserCommand::Create { password_stdin, .. } | UserCommand::SetPassword { password_stdin, .. }) = &cmd else {
                if let UserCommand::SetTimezone { email, time_zone } = cmd {
                    let user = app.user_by_email(&email).await?;
                    let name = app.set_time_zone(user.id, &time_zone).await?;
                    eprintln!("set the time zone of {} to {name}", user.email);
                }
                return Ok(());
            };
            let (password, generated) = if *password_stdin {
                let mut input = String::new();
                std::io::stdin().read_to_string(&mut input)?;
                (input.lines().next().unwrap_or("").to_owned(), false)
            } else {
                (crate::core::secret::random_base62(20), true)
            };
            match cmd {
                UserCommand::Create { email, .. } => {
                    let user = app.create_user(&email, &password).await?;
                    eprintln!("created user {} ({})", user.email, user.id);
                }
                UserCommand::SetPassword { email, .. } => {
                    let user = app.set_password(&email, &password).await?;
                    eprintln!("set the password of {}; every browser of theirs was signed out", user.email);
                }
                UserCommand::SetTimezone { .. } => {}
            }
            if generated {
                println!("{password}");
                eprintln!("(the line above is the generated password; it is not shown again)");
            }
            Ok(())
        }
        Command::Key(cmd) => {
            let app = crate::server::app(&settings, Arc::new(SystemClock)).await?;
            match cmd {
                KeyCommand::Create { user, name, scope, expires } => {
                    let user = app.user_by_email(&user).await?;
                    let access = Access::parse(&scope).ok_or_else(|| anyhow::anyhow!("scope must be read or write"))?;
                    let expires_at = expires.map(|d| expiry_from_date(d, app.now())).transpose()?;
                    let created = app.create_api_key(user.id, &name, access, expires_at).await?;
                    println!("{}", created.token.plaintext);
                    Ok(())
                }
                KeyCommand::List { user, json } => {
                    let user = app.user_by_email(&user).await?;
                    let keys = app.list_api_keys(user.id).await?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&keys)?);
                    } else {
                        println!(
                            "{:<24} {:<24} {:<13} {:<8} {:<17} {:<17} EXPIRES",
                            "ID", "NAME", "ACCESS", "STATUS", "CREATED", "LAST USED"
                        );
                        let t = |t: Option<chrono::DateTime<chrono::Utc>>| {
                            t.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "never".into())
                        };
                        for k in keys {
                            println!(
                                "{:<24} {:<24} {:<13} {:<8} {:<17} {:<17} {}",
                                k.display_id,
                                k.name,
                                k.scope_label,
                                k.status,
                                t(Some(k.created_at)),
                                t(k.last_used_at),
                                t(k.expires_at)
                            );
                        }
                    }
                    Ok(())
                }
                KeyCommand::Revoke { user, id } => {
                    let user = app.user_by_email(&user).await?;
                    app.revoke_api_key(user.id, &id).await?;
                    eprintln!("revoked {id}");
                    Ok(())
                }
            }
        }
    }
}
