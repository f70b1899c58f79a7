//! Navis behind a real nginx (Debian's package) terminating TLS with a self-signed certificate,
//! configured with the very location blocks the README gives (`deploy/nginx/*.conf`): at the root
//! of a host name and under a path prefix. The official Python SDK runs the whole OAuth flow
//! through it; the pages, redirects, cookies and metadata carry the prefix; the sign-in throttle
//! and the security events see the client's address, and a forged `X-Forwarded-For` changes nothing.
use std::{net::IpAddr, path::Path, process::Stdio, time::Duration};

use crate::harness::{MCP, Options, TestServer};
use crate::oauth_support::between;
use crate::sdk_clients::{Stepper, whole_oauth_flow};

/// An nginx of the test's own (never the system service), stopped when dropped.
struct Nginx {
    process: tokio::process::Child,
    port: u16,
    /// The test CA's certificate, which clients trust.
    cert_pem: Vec<u8>,
    _dir: tempfile::TempDir,
}

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Nginx {
    /// Serves https on `port`, proxying to `upstream` with the locations of `locations`.
    async fn start(port: u16, upstream: &str, locations: &str) -> Nginx {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| Path::new(p).exists());
        let nginx = nginx.expect("nginx is needed by the reverse-proxy tests: apt-get install nginx (scripts/test.sh does it as root)");
        let dir = tempfile::tempdir().unwrap();
        // A CA of the test's own and a certificate for 127.0.0.1 signed by it (rustls refuses a CA
        // certificate used as the server's own).
        let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
        let (ca, ca_key, cert, key, csr, ext) =
            (path("ca.pem"), path("ca.key"), path("cert.pem"), path("key.pem"), path("leaf.csr"), path("leaf.ext"));
        std::fs::write(&ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n").unwrap();
        let openssl = |args: &[&str]| {
            let made = std::process::Command::new("openssl").args(args).stderr(Stdio::null()).status().expect("openssl runs");
            assert!(made.success(), "openssl {args:?}");
        };
        let ec = "ec_paramgen_curve:prime256v1";
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            ec,
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Navis test CA",
            "-keyout",
            &ca_key,
            "-out",
            &ca,
        ]);
        openssl(&["req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", &key, "-out", &csr]);
        openssl(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-set_serial",
            "1",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-extfile",
            &ext,
            "-out",
            &cert,
        ]);
        let d = dir.path().display();
        let conf = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  upstream navis {{ server {upstream}; }}\n  \
             server {{\n    listen 127.0.0.1:{port} ssl;\n    ssl_certificate {cert};\n    ssl_certificate_key {key};\n    \
             include {locations};\n  }}\n}}\n",
            locations = repo(locations).display(),
        );
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let process = tokio::process::Command::new(nginx)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("nginx starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                let cert_pem = std::fs::read(&ca).unwrap();
                return Nginx { process, port, cert_pem, _dir: dir };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nginx did not listen: {}", std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default());
    }

    fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A browser that trusts this nginx's certificate and connects from `from`.
    fn browser(&self, from: &str) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&self.cert_pem).unwrap())
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(from.parse::<IpAddr>().unwrap())
            .build()
            .unwrap()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.process.start_kill().ok();
    }
}

/// Navis behind nginx with `public` as its public URL (nginx on `port`).
async fn behind_nginx(port: u16, public: &str, locations: &str) -> (TestServer, Nginx) {
    let options = Options { public_url: Some(public.into()), trusted_proxies: Some(vec!["127.0.0.1".into()]), ..Default::default() };
    let s = TestServer::start_with(options).await;
    let upstream = s.base.trim_start_matches("http://").to_owned();
    let nginx = Nginx::start(port, &upstream, locations).await;
    (s, nginx)
}

/// The official Python SDK's whole OAuth flow (discovery, registration, consent, exchange, calls,
/// refresh, Disconnect) against the MCP URL behind the proxy.
async fn python_sdk_flow(s: &TestServer, nginx: &Nginx, mcp_url: &str, session_cookie: &str) {
    let dir = repo("tests/clients/py");
    let python = dir.join(".venv/bin/python");
    assert!(python.exists(), "the Python SDK is not installed: scripts/test.sh creates tests/clients/py/.venv");
    let ca = s.dir.path().join("proxy-ca.pem");
    std::fs::write(&ca, &nginx.cert_pem).unwrap();
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg("oauth_client.py").arg(mcp_url).env("NAVIS_SESSION_COOKIE", session_cookie).env("SSL_CERT_FILE", &ca).current_dir(&dir);
    whole_oauth_flow(s, mcp_url, session_cookie, Stepper::spawn(cmd), "Python SDK e2e").await;
}

#[tokio::test]
async fn behind_nginx_at_the_root_of_a_host_the_python_sdk_runs_the_whole_oauth_flow() {
    let port = free_port();
    let public = format!("https://127.0.0.1:{port}");
    let (s, nginx) = behind_nginx(port, &public, "deploy/nginx/navis-root.conf").await;
    let user = s.user("ada@example.com").await;
    // https with no path: the session cookie is `__Host-` prefixed.
    let session = format!("__Host-navis_session={}", s.app.start_session(user).await.unwrap());
    python_sdk_flow(&s, &nginx, &format!("{public}{MCP}"), &session).await;
}

#[tokio::test]
async fn behind_nginx_under_a_path_prefix_everything_carries_the_prefix() {
    let port = free_port();
    let public = format!("https://127.0.0.1:{port}/navis");
    let (s, nginx) = behind_nginx(port, &public, "deploy/nginx/navis-prefix.conf").await;
    let origin = nginx.origin();
    let b = nginx.browser("127.0.0.2");

    // The metadata where RFC 8414 §3.1 and RFC 9728 §3.1 put it for a path, and under the prefix.
    for url in
        [format!("{origin}/.well-known/oauth-authorization-server/navis"), format!("{public}/.well-known/oauth-authorization-server")]
    {
        let doc: serde_json::Value = b.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["issuer"], public, "{url}");
        assert_eq!(doc["token_endpoint"], format!("{public}/oauth/token"), "{url}");
    }
    for url in
        [format!("{origin}/.well-known/oauth-protected-resource/navis{MCP}"), format!("{public}/.well-known/oauth-protected-resource{MCP}")]
    {
        let doc: serde_json::Value = b.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["resource"], format!("{public}{MCP}"), "{url}");
        assert_eq!(doc["authorization_servers"][0], public, "{url}");
    }
    let root: serde_json::Value =
        b.get(format!("{origin}/.well-known/oauth-protected-resource/navis")).send().await.unwrap().json().await.unwrap();
    assert_eq!(root["resource"], public);
    // The MCP endpoint's challenge points at a document the proxy serves.
    let challenge = b.post(format!("{public}{MCP}")).json(&serde_json::json!({})).send().await.unwrap();
    assert_eq!(challenge.status(), 401);
    let www = challenge.headers()["www-authenticate"].to_str().unwrap().to_owned();
    let metadata = between(&www, "resource_metadata=\"", "\"").expect("resource_metadata").to_owned();
    assert!(metadata.starts_with(&public), "{www}");
    assert_eq!(b.get(&metadata).send().await.unwrap().status(), 200, "{metadata}");

    // Pages: every link, form action and asset under the prefix; redirects too.
    let signin = b.get(format!("{public}/signin")).send().await.unwrap().text().await.unwrap();
    for expected in [r#"href="/navis/assets/app.css""#, r#"src="/navis/assets/app.js""#, r#"action="/navis/signin""#, r#"href="/navis/""#] {
        assert!(signin.contains(expected), "{expected} in {signin}");
    }
    for root_relative in [r#"href="/assets"#, r#"action="/signin""#, r#"src="/assets"#] {
        assert!(!signin.contains(root_relative), "{root_relative} in {signin}");
    }
    assert_eq!(b.get(format!("{public}/assets/app.css")).send().await.unwrap().status(), 200);
    let away = b.get(format!("{public}/settings/connected-apps")).send().await.unwrap();
    assert_eq!(away.status(), 303);
    assert!(away.headers()["location"].to_str().unwrap().starts_with("/navis/signin"), "{:?}", away.headers());

    // Sign up through the proxy from 127.0.0.2, claiming another address: the cookie is scoped to
    // the prefix, the redirect stays under it, and the security event shows the real client.
    let form = b.get(format!("{public}/signup")).send().await.unwrap().text().await.unwrap();
    let csrf = between(&form, r#"name="csrf" value=""#, "\"").unwrap().to_owned();
    let signed_up = b
        .post(format!("{public}/signup"))
        .header("X-Forwarded-For", "203.0.113.9")
        .header("Origin", &origin)
        .form(&[("email", "ada@example.com"), ("password", "correct horse battery"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_up.status(), 303, "{:?}", signed_up.text().await);
    assert!(signed_up.headers()["location"].to_str().unwrap().starts_with("/navis/"), "{:?}", signed_up.headers());
    let cookies: Vec<_> = signed_up.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let session = cookies.iter().find(|c| c.starts_with("navis_session=")).expect("the session cookie");
    assert!(session.contains("Path=/navis") && session.contains("Secure"), "{session}");
    let apps = b.get(format!("{public}/settings/connected-apps")).send().await.unwrap().text().await.unwrap();
    assert!(apps.contains("from 127.0.0.2"), "the client's address, not the proxy's or the forged one: {apps}");
    assert!(!apps.contains("203.0.113.9"), "{apps}");

    // The throttle counts that client: ten wrong passwords from it (each for another account, so
    // only the address's counter fills), then it is refused, while another client is not.
    let guess = |b: reqwest::Client, public: String, email: String| async move {
        let form = b.get(format!("{public}/signin")).send().await.unwrap().text().await.unwrap();
        let csrf = between(&form, r#"name="csrf" value=""#, "\"").unwrap().to_owned();
        let resp = b
            .post(format!("{public}/signin"))
            .header("X-Forwarded-For", "198.51.100.7")
            .form(&[("email", email.as_str()), ("password", "wrong password"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    };
    let guesser = nginx.browser("127.0.0.3");
    for i in 0..10 {
        assert_eq!(guess(guesser.clone(), public.clone(), format!("user{i}@example.com")).await, 401, "guess {i}");
    }
    assert_eq!(guess(guesser.clone(), public.clone(), "user10@example.com".into()).await, 429, "the guessing client is refused");
    assert_eq!(guess(nginx.browser("127.0.0.4"), public.clone(), "user11@example.com".into()).await, 401, "another client is not");

    // And the official Python SDK's whole OAuth flow under the prefix.
    let user = s.user("grace@example.com").await;
    let session = format!("navis_session={}", s.app.start_session(user).await.unwrap());
    python_sdk_flow(&s, &nginx, &format!("{public}{MCP}"), &session).await;
}
