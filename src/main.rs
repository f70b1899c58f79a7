use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    navis::logging::init();
    let cli = navis::cli::Cli::parse();
    match navis::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
