//! Settings as an operator gives them, through the real binary: which tokens a server trusts
//! (`[auth]`: the development issuer switched off, an issuer whose keys come from a JWKS URL) and
//! the documented precedence of defaults, the config file, `MELDING_*` and flags
//! (`melding.example.toml`, `crates/melding/src/config.rs`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use melding_domain::{NationalId, Party};
use melding_http::auth::{Claims, DevIssuer};

#[path = "common/process.rs"]
mod process;
use process::Running as Server;
use process::{BIN, free_port};

const PERSON: &str = "08089403198";

/// The `melding` command with no setting inherited from the environment of the test run.
fn melding() -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "MELDING_CONFIG",
        "MELDING_DATA_DIR",
        "MELDING_DATABASE_URL",
        "MELDING_LISTEN",
        "MELDING_METRICS_LISTEN",
        "MELDING_LOG_FORMAT",
        "MELDING_JOB_LEASE_SECONDS",
        "MELDING_JOB_CONCURRENCY",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Starts the `melding serve` command `cmd` and waits until `port` answers `/healthz`.
async fn serve(mut cmd: Command, port: u16) -> Server {
    let mut server = Server(
        cmd.env("MELDING_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await
            && r.status() == 200
        {
            return server;
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(server.0.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("melding serve exited with {status}: {err}");
        }
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Serves `jwks` at `http://127.0.0.1:<port>/jwks.json` from this test, as an identity
/// provider would; returns the URL.
async fn identity_provider(jwks: serde_json::Value) -> String {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let jwks = jwks.clone();
            async move { axum::Json(jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/jwks.json")
}

/// The status of the caller's authorized parties with `token`.
async fn status_with(port: u16, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/melding/api/v1/authorizedparties"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// With `dev_issuer = false` the data directory's development key is not trusted; an issuer
/// whose JWKS is fetched from a URL is, for tokens with its `iss` and `aud` only.
#[tokio::test]
async fn without_the_dev_issuer_only_the_configured_issuer_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let idp = DevIssuer::generate();
    let jwks_url =
        identity_provider(serde_json::to_value(&idp.trusted_issuer().keys).unwrap()).await;
    let issuer = "https://idp.example.kommune.no";
    let audience = "melding-test";
    let config = dir.path().join("melding.toml");
    let write_config = |dev_issuer: bool| {
        std::fs::write(
            &config,
            format!(
                "[auth]\ndev_issuer = {dev_issuer}\n\n[[auth.issuers]]\nissuer = \"{issuer}\"\n\
                 audience = \"{audience}\"\nalgorithms = [\"EdDSA\"]\njwks_url = \"{jwks_url}\"\n"
            ),
        )
        .unwrap();
    };
    let dev_token = {
        let out = melding()
            .args([
                "token",
                "--init",
                "--person",
                PERSON,
                "--scope",
                "altinn:correspondence.read",
            ])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let now = chrono::Utc::now();
    let claims = |iss: &str, aud: &str| Claims {
        iss: iss.into(),
        aud: aud.into(),
        exp: (now + chrono::Duration::hours(1)).timestamp(),
        iat: Some(now.timestamp()),
        scope: Some("altinn:correspondence.read".into()),
        pid: Some(PERSON.into()),
        c: None,
        consumer: None,
        org_number: None,
    };
    let good = idp.sign(&claims(issuer, audience));
    let wrong_iss = idp.sign(&claims("https://another.idp.example", audience));
    let wrong_aud = idp.sign(&claims(issuer, "someone-else"));
    let unknown_key = DevIssuer::generate().sign(&claims(issuer, audience));
    let start = |port: u16| {
        let mut cmd = melding();
        cmd.arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"));
        cmd
    };

    // The default trusts the development key beside the configured issuer.
    write_config(true);
    let port = free_port();
    let server = serve(start(port), port).await;
    assert_eq!(status_with(port, &dev_token).await, 200);
    assert_eq!(status_with(port, &good).await, 200);
    drop(server);

    write_config(false);
    let port = free_port();
    let _server = serve(start(port), port).await;
    assert_eq!(
        status_with(port, &dev_token).await,
        401,
        "a development token is refused with dev_issuer = false"
    );
    assert_eq!(status_with(port, &good).await, 200);
    assert_eq!(status_with(port, &wrong_iss).await, 401, "wrong iss");
    assert_eq!(status_with(port, &wrong_aud).await, 401, "wrong aud");
    assert_eq!(status_with(port, &unknown_key).await, 401, "unknown key");
    // The trusted token names its person.
    let parties: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/melding/api/v1/authorizedparties"
        ))
        .bearer_auth(&good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = Party::Person(NationalId::parse(PERSON).unwrap());
    assert_eq!(parties[0]["party"], me.urn());
}

/// A server that cannot fetch its issuer's JWKS does not start.
#[test]
fn an_unreachable_jwks_url_stops_the_server_from_starting() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("melding.toml");
    let closed = free_port();
    std::fs::write(
        &config,
        format!(
            "[auth]\ndev_issuer = false\n\n[[auth.issuers]]\nissuer = \"https://idp\"\n\
             audience = \"melding\"\nalgorithms = [\"RS256\"]\n\
             jwks_url = \"http://127.0.0.1:{closed}/jwks.json\"\n"
        ),
    )
    .unwrap();
    let out = melding()
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", free_port()))
        .env("MELDING_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("fetching JWKS"), "{err}");
}

/// Where `melding migrate` put the database, from its own answer.
fn migrated_into(cwd: &Path, configure: impl FnOnce(&mut Command)) -> String {
    let mut cmd = melding();
    cmd.current_dir(cwd).arg("migrate");
    configure(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Defaults, then the file, then `MELDING_*`, then flags: each later source wins over the
/// earlier ones, shown with the data directory and the listen address.
#[tokio::test]
async fn settings_come_from_defaults_then_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let (from_file, from_env, from_flag) = (
        cwd.join("from-file"),
        cwd.join("from-env"),
        cwd.join("from-flag"),
    );
    let config = cwd.join("melding.toml");
    let (file_port, env_port, flag_port) = (free_port(), free_port(), free_port());
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\nlisten = \"127.0.0.1:{file_port}\"\n",
            from_file.display()
        ),
    )
    .unwrap();

    // Nothing given: ./melding-data in the working directory.
    let out = migrated_into(cwd, |_| {});
    assert!(out.contains("melding-data"), "{out}");
    assert!(cwd.join("melding-data/melding.db").is_file());
    // The file, given as a flag or through MELDING_CONFIG.
    let out = migrated_into(cwd, |c| {
        c.arg("--config").arg(&config);
    });
    assert!(out.contains(&from_file.display().to_string()), "{out}");
    assert!(from_file.join("melding.db").is_file());
    let out = migrated_into(cwd, |c| {
        c.env("MELDING_CONFIG", &config);
    });
    assert!(out.contains(&from_file.display().to_string()), "{out}");
    // The environment over the file.
    let out = migrated_into(cwd, |c| {
        c.arg("--config")
            .arg(&config)
            .env("MELDING_DATA_DIR", &from_env);
    });
    assert!(out.contains(&from_env.display().to_string()), "{out}");
    assert!(from_env.join("melding.db").is_file());
    // A flag over both.
    let out = migrated_into(cwd, |c| {
        c.arg("--config")
            .arg(&config)
            .env("MELDING_DATA_DIR", &from_env)
            .arg("--data-dir")
            .arg(&from_flag);
    });
    assert!(out.contains(&from_flag.display().to_string()), "{out}");
    assert!(from_flag.join("melding.db").is_file());

    // The listen address the same way: file, then MELDING_LISTEN, then --listen.
    let serve_with = |env: bool, flag: bool| {
        let mut cmd = melding();
        cmd.current_dir(cwd)
            .arg("serve")
            .arg("--config")
            .arg(&config);
        if env {
            cmd.env("MELDING_LISTEN", format!("127.0.0.1:{env_port}"));
        }
        if flag {
            cmd.arg("--listen").arg(format!("127.0.0.1:{flag_port}"));
        }
        cmd
    };
    for (env, flag, port) in [
        (false, false, file_port),
        (true, false, env_port),
        (true, true, flag_port),
    ] {
        let mut cmd = serve_with(env, flag);
        cmd.env("MELDING_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _server = Server(cmd.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await
                && r.status() == 200
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "env {env}, flag {flag}: nothing answers on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for other in [file_port, env_port, flag_port] {
            if other != port {
                assert!(
                    reqwest::get(format!("http://127.0.0.1:{other}/healthz"))
                        .await
                        .is_err(),
                    "env {env}, flag {flag}: port {other} answers too"
                );
            }
        }
    }
}
