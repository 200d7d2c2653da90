#![allow(clippy::cloned_ref_to_slice_refs)] // the tests build one-letter slices from clones
//! The `melding` binary as an operator uses it: import a registry, mint tokens, serve on a data
//! directory, send and read a letter with those tokens, stop on SIGTERM, start again and find the
//! letter still there.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "common/pgdb.rs"]
mod pgdb;

#[path = "common/process.rs"]
mod process;
use process::Running as Server;
use process::{BIN, data_dir_with_sender, free_port, wait_until_healthy};

fn melding(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("MELDING_CONFIG")
        .output()
        .unwrap()
}

fn token(dir: &Path, who: &[&str], scope: &str) -> String {
    let mut args = vec!["token"];
    args.extend_from_slice(who);
    args.extend_from_slice(&["--scope", scope]);
    let out = melding(dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn serve(dir: &Path, port: u16) -> Server {
    let child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("MELDING_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    wait_until_healthy(port).await;
    server
}

fn terminate(server: &mut Server) -> std::process::ExitStatus {
    let pid = server.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn an_operator_runs_melding_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"persons": [{"nationalId": "08089403199", "name": "X"}]}"#,
    )
    .unwrap();
    let out = melding(&data, &["registry", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("persons[0].nationalId"), "{err}");

    let registry = dir.path().join("registry.json");
    std::fs::write(
        &registry,
        json!({
            "organizations": [{"orgNumber": "991825827", "name": "Digitaliseringsdirektoratet"}],
            "persons": [{"nationalId": "08089403198", "name": "Ola Nordmann"}],
            "resources": [{"id": "kommunepost", "owner": "991825827", "serviceOwnerCode": "digdir",
                           "title": "Post fra kommunen", "confidential": false}]
        })
        .to_string(),
    )
    .unwrap();
    for _ in 0..2 {
        let out = melding(&data, &["registry", "import", registry.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout)
                .contains("imported 1 organisations, 1 persons, 1 resources")
        );
    }

    let sender = token(
        &data,
        &["--init", "--org", "991825827"],
        "altinn:correspondence.write altinn:serviceowner",
    );
    let reader = token(
        &data,
        &["--person", "08089403198"],
        "altinn:correspondence.read",
    );

    let port = free_port();
    let mut server = serve(&data, port).await;
    let base = format!("http://127.0.0.1:{port}/correspondence/api/v1");
    let client = reqwest::Client::new();
    let sent: Value = client
        .post(format!("{base}/correspondence"))
        .bearer_auth(&sender)
        .json(&json!({
            "correspondence": {"resourceId": "kommunepost", "sendersReference": "cli-1",
                "content": {"messageTitle": "Vedtak", "messageBody": "Innvilget."}},
            "recipients": ["08089403198"]
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = sent["correspondences"][0]["correspondenceId"]
        .as_str()
        .unwrap_or_else(|| panic!("{sent}"))
        .to_owned();

    // The job runner publishes it promptly; poll rather than assume a time.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = client
            .get(format!("{base}/correspondence/{id}"))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["status"], "Published");
            break;
        }
        assert!(Instant::now() < deadline, "letter was not published");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // An online backup while the server runs holds the letter and the signing key.
    let backup = dir.path().join("backup");
    let out = Command::new(BIN)
        .args(["backup", backup.to_str().unwrap(), "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(data.join("keys/dev-issuer.json")).unwrap(),
        std::fs::read(backup.join("keys/dev-issuer.json")).unwrap()
    );
    let again = Command::new(BIN)
        .args(["backup", backup.to_str().unwrap(), "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing destination is refused"
    );

    let status = terminate(&mut server);
    assert!(status.success(), "graceful shutdown exits 0, got {status}");

    // A server started on the backup has the letter and accepts the same tokens.
    let port = free_port();
    let _from_backup = serve(&backup, port).await;
    let base = format!("http://127.0.0.1:{port}/correspondence/api/v1");
    let d: Value = client
        .get(format!("{base}/correspondence/{id}/details"))
        .bearer_auth(&sender)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let history: Vec<&str> = d["statusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        history,
        ["Initialized", "ReadyForPublish", "Published", "Fetched"]
    );

    // And the original directory, restarted after SIGTERM, still has it too.
    let port = free_port();
    let _restarted = serve(&data, port).await;
    let r = client
        .get(format!(
            "http://127.0.0.1:{port}/correspondence/api/v1/correspondence/{id}"
        ))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn every_command_explains_itself() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["token", "--help"],
        vec!["registry", "import", "--help"],
        vec!["jobs", "list", "--help"],
        vec!["backup", "--help"],
        vec!["jobs", "retry", "--help"],
        vec!["notifications", "show", "--help"],
        vec!["delivery", "show", "--help"],
        vec!["delivery", "queue", "--help"],
        vec!["delivery", "stop", "--help"],
        vec!["simulate", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(!out.stdout.is_empty());
        let help = String::from_utf8_lossy(&out.stdout);
        if args.len() > 1 {
            assert!(help.contains("Example:\n  melding "), "{args:?}: {help}");
        }
        if args.contains(&"serve") || args.contains(&"token") || args.contains(&"migrate") {
            assert!(
                help.contains("[default: ./melding-data]"),
                "{args:?}: {help}"
            );
        }
    }
}

/// CSV files, one kind each: a bad line is named and nothing is written; good files import in
/// order, persons and organisations before the roles that name them.
#[test]
fn an_operator_imports_csv_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let import = |file: &str, extra: &[&str]| {
        let mut args = vec!["registry", "import", file];
        args.extend_from_slice(extra);
        melding(&data, &args)
    };

    let persons = write(
        "persons.csv",
        "nationalId,name,email,mobile,addressLines,postalCode,city\n\
         08089403198,Ola Nordmann,ola@example.no,99999999,Storgata 1,0155,Oslo\n\
         21866699621,Kari Nordmann,,,,,\n",
    );
    let out = import(&persons, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("persons.csv: line 3: nationalId:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let persons = write(
        "persons.csv",
        "nationalId,name,email,mobile,addressLines,postalCode,city\n\
         08089403198,Ola Nordmann,ola@example.no,99999999,Storgata 1,0155,Oslo\n\
         21866699620,Kari Nordmann,,,,,\n",
    );
    let orgs = write(
        "orgs.csv",
        "orgNumber,name,notificationEmails\n991825827,Digitaliseringsdirektoratet,post@digdir.no\n",
    );
    let roles = write(
        "roles.csv",
        "orgNumber,nationalId,role\n991825827,21866699620,DAGL\n",
    );
    for (file, kind, expected) in [
        (
            &persons,
            "persons",
            "imported 0 organisations, 2 persons, 0 resources, 0 roles",
        ),
        (
            &orgs,
            "organizations",
            "imported 1 organisations, 0 persons",
        ),
        (&roles, "roles", "0 resources, 1 roles"),
    ] {
        // Once with the kind read from the header, once given.
        for extra in [&[][..], &["--kind", kind][..]] {
            let out = import(file, extra);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stdout.contains(expected), "{stdout}");
            // No progress bar when stderr is not a terminal.
            assert!(
                out.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let out = import(&roles, &["--kind", "persons"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("roles.csv: line 1: orgNumber: not a column of persons"),
        "{err}"
    );
}

/// README "Checking and writing": the whole file is checked before anything is written, so a
/// bad line in the middle of a file leaves even the good lines before it unwritten.
#[tokio::test]
async fn a_bad_registry_file_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ids = ["08089403198", "21866699620", "13097248022"];
    let file = dir.path().join("persons.csv");
    std::fs::write(
        &file,
        format!(
            "nationalId,name\n{},Ola Nordmann\n{},\n{},Per Nordmann\n",
            ids[0], ids[1], ids[2]
        ),
    )
    .unwrap();
    let out = melding(&data, &["registry", "import", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("persons.csv: line 3: name: must not be empty"),
        "{err}"
    );
    use melding_store::RegistryStore;
    let store = melding::open_store(&data).await.unwrap();
    for id in ids {
        let nid = melding_domain::NationalId::parse(id).unwrap();
        assert_eq!(store.person(&nid).await.unwrap(), None, "{id}");
    }
    // The same file without the bad line is written: the reads above could see a person.
    std::fs::write(&file, format!("nationalId,name\n{},Ola Nordmann\n", ids[0])).unwrap();
    let out = melding(&data, &["registry", "import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nid = melding_domain::NationalId::parse(ids[0]).unwrap();
    assert!(store.person(&nid).await.unwrap().is_some());
}

#[test]
fn jobs_commands_show_the_queue_and_refuse_an_unknown_dead_job() {
    let dir = tempfile::tempdir().unwrap();
    let out = melding(dir.path(), &["jobs", "list"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "no queued jobs"
    );
    let out = melding(dir.path(), &["jobs", "list", "--dead"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "no dead jobs");
    let out = melding(dir.path(), &["jobs", "retry", "42"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no dead job 42"));
}

/// The migrations of one store crate, in order.
fn migration_files(store_crate: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(store_crate)
        .join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

/// `melding migrate` run for real: it creates the schema in a new SQLite data directory and on an
/// empty PostgreSQL database, upgrades a SQLite database of the first schema keeping its rows,
/// and finds nothing to do the second time.
#[tokio::test]
async fn migrate_creates_and_upgrades_the_schema() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let applied_sqlite = |data: &Path| {
        let db = data.join("melding.db");
        async move {
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            (n, conn)
        }
    };
    let sqlite_migrations = migration_files("melding-store-sqlite").len() as i64;

    let data = dir.path().join("data");
    for _ in 0..2 {
        let out = melding(&data, &["migrate"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("is up to date"));
        assert_eq!(applied_sqlite(&data).await.0, sqlite_migrations);
    }

    // A database created by the first migration, holding an organisation.
    let old = dir.path().join("old");
    let first = dir.path().join("first-migration");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::create_dir_all(&first).unwrap();
    let files = migration_files("melding-store-sqlite");
    std::fs::copy(&files[0], first.join(files[0].file_name().unwrap())).unwrap();
    {
        let opts: sqlx::sqlite::SqliteConnectOptions =
            format!("sqlite://{}", old.join("melding.db").display())
                .parse()
                .unwrap();
        let mut conn = sqlx::SqliteConnection::connect_with(&opts.create_if_missing(true))
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(first.as_path())
            .await
            .unwrap()
            .run(&mut conn)
            .await
            .unwrap();
        sqlx::query("INSERT INTO organizations (org_number, name) VALUES ('991825827', 'Digdir')")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    assert_eq!(applied_sqlite(&old).await.0, 1);
    let out = melding(&old, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (n, mut conn) = applied_sqlite(&old).await;
    assert_eq!(n, sqlite_migrations);
    let row: (String, Option<String>, String) = sqlx::query_as(
        "SELECT name, parent, contacts FROM organizations WHERE org_number = '991825827'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(row, ("Digdir".to_owned(), None, "[]".to_owned()));

    // PostgreSQL: an empty database gets every migration, once.
    let db = pgdb::TestDatabase::create().await;
    for _ in 0..2 {
        let out = melding(&data, &["migrate", "--database-url", &db.url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "PostgreSQL schema is up to date"
        );
        let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, migration_files("melding-store-postgres").len() as i64);
        conn.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_on_sqlite_loses_no_acknowledged_letter() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sender) = data_dir_with_sender(dir.path());
    let port = free_port();
    let mut server = serve(&data, port).await;
    let base = format!("http://127.0.0.1:{port}/correspondence/api/v1");

    // Many senders at once; the node is killed while requests are still arriving.
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..400 {
        let (base, sender, acked) = (base.clone(), sender.clone(), acked.clone());
        tasks.spawn(async move {
            let sent = reqwest::Client::new()
                .post(format!("{base}/correspondence"))
                .bearer_auth(&sender)
                .json(&json!({
                    "correspondence": {"resourceId": "kommunepost", "sendersReference": format!("kill-{n}"),
                        "content": {"messageTitle": "Vedtak", "messageBody": "Innvilget."}},
                    "recipients": ["08089403198"]
                }))
                .send()
                .await;
            let res = match sent {
                Ok(res) => res,
                // Connected, but no answer: the request was in flight when the node died.
                Err(e) if !e.is_connect() => return Sent::InFlight,
                Err(_) => return Sent::NotConnected,
            };
            if res.status() != 200 {
                return Sent::Refused(res.status().as_u16());
            }
            let Ok(v) = res.json::<Value>().await else {
                return Sent::InFlight;
            };
            acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            match v["correspondences"][0]["correspondenceId"].as_str() {
                Some(id) => Sent::Acknowledged(id.to_owned()),
                None => panic!("a 200 answer without a letter id: {v}"),
            }
        });
    }
    // Kill as soon as some letters have been acknowledged, while the rest are in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 20 {
        assert!(Instant::now() < deadline, "no request was acknowledged");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    let (mut acknowledged, mut in_flight) = (vec![], 0);
    while let Some(done) = tasks.join_next().await {
        match done.unwrap() {
            Sent::Acknowledged(id) => acknowledged.push(id),
            Sent::InFlight => in_flight += 1,
            Sent::NotConnected => {}
            Sent::Refused(status) => panic!("a create was refused with {status}"),
        }
    }
    assert!(
        !acknowledged.is_empty(),
        "no request was acknowledged before the kill"
    );
    assert!(
        in_flight > 0,
        "no request was in flight at the kill ({} acknowledged): the kill proved nothing",
        acknowledged.len()
    );

    let port = free_port();
    let _restarted = serve(&data, port).await;
    let base = format!("http://127.0.0.1:{port}/correspondence/api/v1");
    let client = reqwest::Client::new();
    for id in &acknowledged {
        let r = client
            .get(format!("{base}/correspondence/{id}/details"))
            .bearer_auth(&sender)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged letter {id} was lost");
    }
    // Their publish jobs survived too: the restarted node publishes every acknowledged letter.
    let published =
        format!("{base}/correspondence?resourceId=kommunepost&role=Sender&status=Published");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let found: Value = client
            .get(&published)
            .bearer_auth(&sender)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: std::collections::HashSet<&str> = found["ids"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let waiting = acknowledged
            .iter()
            .filter(|id| !ids.contains(id.as_str()))
            .count();
        if waiting == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} acknowledged letters were never published after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "{} of 400 letters acknowledged and {in_flight} in flight at SIGKILL; all acknowledged present and published after restart",
        acknowledged.len()
    );
}

/// What became of one create sent while the node was killed.
enum Sent {
    Acknowledged(String),
    InFlight,
    NotConnected,
    Refused(u16),
}

/// `melding token --self-identified URN` names the user in the token's `c` claim; anything but a
/// self-identified user's URN is refused.
#[test]
fn a_self_identified_user_gets_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let urn = "urn:altinn:person:idporten-email:kari@example.no";
    let t = token(
        dir.path(),
        &[
            "--init",
            "--self-identified",
            "urn:altinn:person:idporten-email:Kari@Example.no",
        ],
        "altinn:correspondence.read",
    );
    let issuer = melding::dev_issuer::open(dir.path()).unwrap();
    let claims = melding_http::auth::Authenticator::new(vec![issuer.trusted_issuer()])
        .verify(&t)
        .unwrap();
    assert_eq!(claims.c.as_deref(), Some(urn));
    assert_eq!((claims.pid, claims.consumer), (None, None));
    for bad in [
        "urn:altinn:person:identifier-no:08089403198",
        "urn:altinn:person:idporten-email:kari",
    ] {
        let out = melding(
            dir.path(),
            &["token", "--self-identified", bad, "--scope", "s"],
        );
        assert!(!out.status.success(), "{bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--self-identified"), "{err}");
    }
}

/// `melding token` in a data directory where no server has run: refused unless --init, saying
/// where it looked; scopes, lifetime and party are checked; --database-url is not an option.
#[test]
fn the_token_command_cannot_mislead() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nowhere");
    let scope = ["--scope", "altinn:correspondence.read"];
    let run = |args: &[&str]| {
        let mut all = vec!["token"];
        all.extend_from_slice(args);
        melding(&data, &all)
    };
    let err = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();

    let out = run(&[&["--person", "08089403198"][..], &scope].concat());
    assert!(!out.status.success());
    let e = err(&out);
    assert!(e.contains("no development signing key"), "{e}");
    assert!(
        e.contains(data.to_str().unwrap()),
        "names the directory: {e}"
    );
    assert!(e.contains("--init"), "{e}");
    assert!(!data.join("keys").exists(), "no key was created");

    for (args, expected) in [
        (
            vec![
                "--person",
                "08089403198",
                "--scope",
                "altinn:correspondence.raed",
            ],
            "altinn:correspondence.raed",
        ),
        (
            vec!["--person", "08089403198", "--scope", " "],
            "--scope is empty",
        ),
        (
            vec![
                "--person",
                "08089403198",
                "--minutes",
                "0",
                "--scope",
                "altinn:correspondence.read",
            ],
            "--minutes",
        ),
        (
            vec![
                "--person",
                "08089403198",
                "--minutes",
                "-5",
                "--scope",
                "altinn:correspondence.read",
            ],
            "--minutes",
        ),
        (vec!["--scope", "altinn:correspondence.read"], "--org"),
        (
            vec![
                "--person",
                "08089403198",
                "--database-url",
                "postgres://x",
                "--scope",
                "altinn:correspondence.read",
            ],
            "--database-url",
        ),
    ] {
        let mut with_init = vec!["--init"];
        with_init.extend_from_slice(&args);
        let out = run(&with_init);
        assert!(!out.status.success(), "{args:?}");
        let e = err(&out);
        assert!(e.contains(expected), "{args:?}: {e}");
        if expected == "altinn:correspondence.raed" {
            assert!(
                e.contains("altinn:correspondence.read"),
                "lists the known scopes: {e}"
            );
        }
        if expected == "--org" {
            assert!(e.contains("--person"), "names both: {e}");
        }
        assert!(!data.join("keys").exists(), "{args:?} created a key");
    }

    let out = run(&[&["--init", "--person", "08089403198"][..], &scope].concat());
    assert!(out.status.success(), "{}", err(&out));
    assert!(data.join("keys/dev-issuer.json").exists());
    assert!(err(&out).contains("created a development signing key"));
    // Once the key is there, no --init is needed, and nothing is said about it.
    let out = run(&[&["--person", "08089403198"][..], &scope].concat());
    assert!(out.status.success(), "{}", err(&out));
    assert!(out.stderr.is_empty(), "{}", err(&out));

    let help = Command::new(BIN)
        .args(["token", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for known in [
        "altinn:correspondence.write",
        "altinn:serviceowner",
        "altinn:correspondence.read",
        "melding:admin",
    ] {
        assert!(help.contains(known), "{known} not in {help}");
    }
    assert!(!help.contains("--database-url"), "{help}");
}

/// An error is one line with its causes, without a backtrace even when RUST_BACKTRACE asks for
/// one; -v shows the causes one by one.
#[test]
fn errors_print_as_one_readable_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args(["migrate", "--config", missing.to_str().unwrap()])
            .args(extra)
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_BACKTRACE", "1")
            .env_remove("MELDING_LOG")
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("error: reading config file "), "{e}");
    assert!(e.contains("No such file or directory"), "the cause: {e}");
    assert!(!e.contains("backtrace") && !e.contains("Caused by"), "{e}");

    let out = run(&["-v"]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("Caused by"), "{e}");
}

/// Every request leaves one access-log line (method, route template, status, duration, trace
/// id, and why for a 401/403); unknown JSON properties are logged at warn with the trace id; no
/// token, national id or letter text reaches the log.
#[tokio::test]
async fn every_request_leaves_a_log_line_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let port = free_port();
    let child = Command::new(BIN)
        .args([
            "serve",
            "--demo",
            "--log-format",
            "json",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data)
        .env("MELDING_LOG", "info")
        .env_remove("MELDING_CONFIG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    wait_until_healthy(port).await;
    let sender = token(
        &data,
        &["--org", "991825827"],
        "altinn:correspondence.write altinn:serviceowner",
    );
    let reader = token(
        &data,
        &["--person", "08089403198"],
        "altinn:correspondence.read",
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let secret_text = "Hemmelig innhold 4711";
    let traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    let sent = client
        .post(format!("{base}/correspondence/api/v1/correspondence"))
        .bearer_auth(&sender)
        .header("traceparent", traceparent)
        .json(&json!({
            "correspondence": {"resourceId": "melding-demo", "sendersReference": "log-1",
                "isConfirmationNeded": true,
                "content": {"language": "nb", "messageTitle": "Vedtak", "messageBody": secret_text}},
            "recipients": ["urn:altinn:person:identifier-no:08089403198"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let refused = client
        .get(format!(
            "{base}/correspondence/api/v1/correspondence/0198c2a1-0000-7000-8000-000000000001"
        ))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let forbidden = client
        .post(format!("{base}/correspondence/api/v1/correspondence"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let missing: Value = client
        .get(format!(
            "{base}/correspondence/api/v1/correspondence/0198c2a1-0000-7000-8000-000000000001"
        ))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let problem_trace = missing["traceId"].as_str().unwrap().to_owned();
    let revoked = client
        .delete(format!(
            "{base}/melding/api/v1/organizations/991825827/delegations/08089403198?right=DAGL"
        ))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_client_error());
    assert_eq!(terminate(&mut server).code(), Some(0));

    let log = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let access: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "melding::access")
        .collect();
    let find = |method: &str, status: u64| {
        access
            .iter()
            .find(|l| l["fields"]["method"] == method && l["fields"]["status"] == status)
            .unwrap_or_else(|| panic!("no {method} {status} line in {log}"))
    };
    let created = find("POST", 200);
    assert_eq!(created["level"], "INFO");
    assert_eq!(
        created["fields"]["route"],
        "/correspondence/api/v1/correspondence"
    );
    assert_eq!(created["fields"]["trace_id"], traceparent);
    assert!(
        created["fields"]["duration_ms"].as_f64().is_some(),
        "{created}"
    );
    let unauthorized = find("GET", 401);
    assert_eq!(unauthorized["level"], "INFO");
    assert_eq!(
        unauthorized["fields"]["route"],
        "/correspondence/api/v1/correspondence/{correspondenceId}"
    );
    assert_eq!(
        unauthorized["fields"]["reason"],
        "invalid_token: The token is malformed"
    );
    let forbidden = find("POST", 403);
    assert_eq!(
        forbidden["fields"]["reason"],
        "insufficient_scope: altinn:correspondence.write"
    );
    let not_found = find("GET", 404);
    assert_eq!(not_found["fields"]["trace_id"], problem_trace.as_str());
    let revoke = access
        .iter()
        .find(|l| l["fields"]["method"] == "DELETE")
        .unwrap_or_else(|| panic!("no DELETE line in {log}"));
    assert_eq!(
        revoke["fields"]["route"],
        "/melding/api/v1/organizations/{orgNumber}/delegations/{nationalId}"
    );
    let unknown = lines
        .iter()
        .find(|l| {
            l["level"] == "WARN"
                && l["fields"]["fields"]
                    .as_str()
                    .is_some_and(|f| f.contains("isConfirmationNeded"))
        })
        .unwrap_or_else(|| panic!("no warning about the unknown property in {log}"));
    assert_eq!(unknown["fields"]["trace_id"], traceparent);

    for secret in [
        sender.as_str(),
        reader.as_str(),
        "garbage",
        "08089403198",
        secret_text,
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}: {log}");
    }
}

/// `scripts/test.sh` with `CI=true` refuses a skip asked for through the environment before it
/// builds or runs anything, and says why. The script runs with a PATH without cargo, so were the
/// check missing it would stop at the toolchain step instead, without that message.
#[test]
fn the_test_script_refuses_skips_in_ci() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test.sh");
    for var in ["MELDING_SKIP_CLAMD", "MELDING_SKIP_OBJECT_STORE"] {
        let out = Command::new("bash")
            .arg(&script)
            .env("CI", "true")
            .env(var, "1")
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}: {err}");
        assert!(err.contains("CI=true allows no skip"), "{var}: {err}");
        assert!(err.contains(&format!("{var}=1")), "{var}: {err}");
    }
}

/// The shapes of Altinn's own example requests (reference §14.1) succeed against a real
/// `melding serve --demo`: the JSON initialize with camelCase and PascalCase fields mixed, and the
/// multipart initialize with lower-case dotted field names, an indexed attachment list and a stray
/// empty-named field. Only the times differ from the collection's: its due date has passed.
#[tokio::test]
async fn altinns_example_requests_succeed_against_serve_demo() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let child = Command::new(BIN)
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&data)
        .env_remove("MELDING_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Server(child);
    let base = format!("http://127.0.0.1:{port}/correspondence/api/v1");
    wait_until_healthy(port).await;
    let sender = token(
        &data,
        &["--org", "991825827"],
        "altinn:correspondence.write altinn:serviceowner",
    );
    let org = "urn:altinn:organization:identifier-no:974760673";
    let person = "urn:altinn:person:identifier-no:08089403198";
    let client = reqwest::Client::new();

    let json_example = json!({
        "correspondence": {
            "resourceId": "melding-demo",
            "sendersReference": "1",
            "content": {
                "language": "nb",
                "messageTitle": "Testmelding tittel",
                "messageSummary": "Ett sammendrag for meldingen",
                "messageBody": "Som kan være plain text eller **markdown**",
                "attachments": []
            },
            "requestedPublishTime": "2026-03-02T09:00:00.000Z",
            "dueDateTime": "2099-03-16T09:00:00.000Z",
            "allowSystemDeleteAfter": "2100-03-02T09:00:00.000Z",
            "externalReferences": [],
            "propertyList": {"caseNumber": "123", "etc": "can-use-for-anything"},
            "replyOptions": [{"linkURL": "https://digdir-samarbeid.slack.com/", "linkText": "Slack"}],
            "notification": {
                "notificationTemplate": "CustomMessage",
                "notificationChannel": "EmailAndSms",
                "SendReminder": true,
                "EmailSubject": "Test av Correspondence: E-post varsel",
                "SmsBody": "Dette er SMS-en som sendes ut ved varsling",
                "EmailBody": "Dette er mailteksten som sendes ut",
                // The collection asks for a reminder without its texts, which the reference
                // refuses with 3025 (§8.1); these three are the only addition.
                "ReminderEmailSubject": "Påminnelse: E-post varsel",
                "ReminderEmailBody": "Dette er påminnelsen som sendes ut",
                "ReminderSmsBody": "Dette er påminnelses-SMS-en"
            },
            "IgnoreReservation": false,
            "IsConfirmationNeeded": true
        },
        "Recipients": [org, person],
        "existingAttachments": []
    });
    let a = client
        .post(format!("{base}/correspondence"))
        .bearer_auth(&sender)
        .json(&json_example)
        .send()
        .await
        .unwrap();
    let status = a.status();
    let v: Value = a.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["correspondences"].as_array().unwrap().len(), 2, "{v}");

    let fields = [
        ("correspondence.resourceid", "melding-demo"),
        ("correspondence.sendersreference", "1"),
        ("correspondence.content.language", "nb"),
        ("correspondence.content.messagetitle", "Testmelding tittel"),
        (
            "correspondence.content.messagebody",
            "Som kan være **markdown**",
        ),
        ("correspondence.duedatetime", "2099-03-16T09:00:00.000Z"),
        ("correspondence.propertylist.casenumber", "123"),
        (
            "correspondence.replyoptions[0].linkurl",
            "https://example.no/",
        ),
        ("correspondence.isconfirmationneeded", "true"),
        ("recipients[0]", org),
        ("recipients[1]", person),
        (
            "correspondence.content.attachments[0].sendersReference",
            "test-file-1",
        ),
        (
            "correspondence.content.attachments[0].filename",
            "test-file.txt",
        ),
        (
            "correspondence.content.attachments[1].sendersreference",
            "test-file-2",
        ),
        (
            "correspondence.content.attachments[1].FILENAME",
            "vedlegg.pdf",
        ),
        ("", ""),
    ];
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in fields {
        form = form.text(name, value);
    }
    for (name, file, bytes) in [
        ("Attachments", "test-file.txt", &b"Hei fra Bruno"[..]),
        ("attachments", "vedlegg.pdf", &b"%PDF-1.4 vedlegg"[..]),
    ] {
        form = form.part(
            name,
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file),
        );
    }
    let a = client
        .post(format!("{base}/correspondence/upload"))
        .bearer_auth(&sender)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = a.status();
    let v: Value = a.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["correspondences"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(v["attachmentIds"].as_array().unwrap().len(), 2, "{v}");
}

/// `melding notifications show`: a letter's orders with the lookup record (addresses considered
/// and the rule applied) and each notification's status, times and provider reference; the
/// same by party; an unknown letter says so.
#[tokio::test]
async fn notifications_show_explains_who_was_notified_and_why() {
    use chrono::TimeZone;
    use melding_domain::notification::*;
    use melding_domain::*;
    use melding_store::{CorrespondenceStore, NotificationStore, ProcessedOrder};

    let dir = tempfile::tempdir().unwrap();
    let at = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let person = "08089403198";
    let urn = format!("urn:altinn:person:identifier-no:{person}");
    let letter = sample_letter(at, &urn);
    let recipient = OrderRecipient::Party(Party::Person(NationalId::parse(person).unwrap()));
    let order = NotificationOrder {
        id: NotificationOrder::id_for(letter.id, &recipient.dedupe_key(), OrderKind::Main),
        correspondence_id: letter.id,
        kind: OrderKind::Main,
        recipient,
        channel: NotificationChannel::EmailAndSms,
        template: NotificationTemplate::CustomMessage,
        texts: NotificationTexts::default(),
        ignore_reservation: false,
        use_stale_contacts: false,
        requested_send_time: at,
        status: OrderStatus::Registered,
        created: at,
    };
    let sent = Notification {
        id: uuid::Uuid::new_v4(),
        order_id: order.id,
        correspondence_id: letter.id,
        channel: DeliveryChannel::Email,
        address: Some("ola@example.no".into()),
        source: Some(ContactSource::Krr),
        status: NotificationStatus::Succeeded,
        not_before: at,
        expires: at + chrono::Duration::hours(48),
        sent: Some(at),
        delivered: None,
        provider_reference: Some("queue-4711".into()),
        detail: Some("250 OK".into()),
        created: at,
    };
    {
        let store = melding::open_store(dir.path()).await.unwrap();
        store
            .insert_letters_with_orders(
                std::slice::from_ref(&letter),
                &[],
                &[],
                &[order.clone()],
                &[],
            )
            .await
            .unwrap();
        let processed = ProcessedOrder {
            order_id: order.id,
            status: OrderStatus::Processed,
            at,
            lookup: vec![
                ContactDecision {
                    address: Some("ola@example.no".into()),
                    channel: Some(DeliveryChannel::Email),
                    source: Some(ContactSource::Krr),
                    rule: LookupRule::Used,
                },
                ContactDecision {
                    address: Some("+4791234567".into()),
                    channel: Some(DeliveryChannel::Sms),
                    source: Some(ContactSource::Krr),
                    rule: LookupRule::Stale,
                },
            ],
            notifications: vec![sent.clone()],
            jobs: vec![],
        };
        assert!(store.process_notification_order(&processed).await.unwrap());
    }
    let id = letter.id.to_string();
    let out = melding(dir.path(), &["notifications", "show", &id]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for expected in [
        format!("letter {id}: 1 notification order(s)"),
        format!("order {}", order.id),
        "Order_Processed".to_owned(),
        "ola@example.no".to_owned(),
        "used".to_owned(),
        "+4791234567".to_owned(),
        "not used: stale".to_owned(),
        format!("notification {}", sent.id),
        "Email_Succeeded".to_owned(),
        "provider reference queue-4711".to_owned(),
        format!("sent {}", at.to_rfc3339()),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in:\n{text}");
    }
    let out = melding(dir.path(), &["notifications", "show", "--party", &urn]);
    let by_party = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        by_party.contains(&format!("order {}", order.id)),
        "{by_party}"
    );
    assert!(by_party.contains("not used: stale"), "{by_party}");

    let unknown = "0194c2a0-5c00-7000-8000-000000000099";
    let out = melding(dir.path(), &["notifications", "show", unknown]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("has no notification orders"));
    let out = melding(dir.path(), &["notifications", "show", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a correspondence id"));
}

/// `melding delivery show` prints a letter's receipt trail, `queue` lists the letters waiting for
/// an operator, and `stop` takes one out (and is refused the second time).
#[tokio::test]
async fn an_operator_follows_and_stops_the_delivery_chain() {
    use chrono::TimeZone;
    use melding_domain::*;
    use melding_store::{CorrespondenceStore, DeliveryStore};

    let dir = tempfile::tempdir().unwrap();
    let at = chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
    let letter = sample_letter(at, "urn:altinn:person:identifier-no:08089403198");
    {
        let store = melding::open_store(dir.path()).await.unwrap();
        store
            .insert_letters_with_orders(std::slice::from_ref(&letter), &[], &[], &[], &[])
            .await
            .unwrap();
        let queued = DeliveryEvent::new(
            ReceiptStatus::TilManuellHandtering,
            at,
            "Waiting for an operator: the recipient's address is protected.",
        )
        .with_details(r#"{"route":"operator"}"#);
        assert!(
            store
                .append_delivery_event(letter.id, &queued, &[], &[], &[])
                .await
                .unwrap()
        );
    }
    let id = letter.id.to_string();
    let ok = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let shown = ok(&melding(dir.path(), &["delivery", "show", &id]));
    for expected in [
        "MOTTATT",
        "TIL_MANUELL_HANDTERING",
        r#"{"route":"operator"}"#,
    ] {
        assert!(shown.contains(expected), "{expected:?} not in:\n{shown}");
    }
    let queue = ok(&melding(dir.path(), &["delivery", "queue"]));
    assert!(queue.contains(&id), "{queue}");

    let stop = [
        "delivery",
        "stop",
        &id,
        "--operator",
        "kari",
        "--reason",
        "levert for hånd",
    ];
    let stopped = ok(&melding(dir.path(), &stop));
    assert!(stopped.contains("manually handled"), "{stopped}");
    let queue = ok(&melding(dir.path(), &["delivery", "queue"]));
    assert!(queue.contains("The operator queue is empty."), "{queue}");
    let shown = ok(&melding(dir.path(), &["delivery", "show", &id]));
    assert!(
        shown.contains("Handled manually by kari: levert for hånd"),
        "{shown}"
    );

    let again = melding(dir.path(), &stop);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("was not stopped"));
    let unknown = melding(
        dir.path(),
        &["delivery", "show", "0194c2a0-5c00-7000-8000-000000000099"],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no letter"));
}

/// A letter from 991825827 under `kommunepost` to `urn`, initialized at `at`, as the CLI tests
/// write it straight into a store.
fn sample_letter(
    at: chrono::DateTime<chrono::Utc>,
    urn: &str,
) -> melding_domain::correspondence::Correspondence {
    use melding_domain::correspondence::{Content, Correspondence, LetterSettings};
    use melding_domain::*;
    Correspondence {
        id: CorrespondenceId::new_v7(at),
        recipient: Recipient::from_urn(urn).unwrap(),
        settings: LetterSettings {
            resource_id: ResourceId::parse("kommunepost").unwrap(),
            sender: OrgNumber::parse("991825827").unwrap(),
            senders_reference: "sak-1".into(),
            message_sender: None,
            content: Content {
                language: "nb".into(),
                title: "Vedtak".into(),
                summary: String::new(),
                body: "Tekst".into(),
            },
            requested_publish_time: at,
            due_date_time: None,
            external_references: vec![],
            property_list: Default::default(),
            reply_options: vec![],
            ignore_reservation: None,
            is_confirmation_needed: false,
            is_confidential: false,
            allow_forwarding: false,
            digital_only: false,
        },
        idempotent_key: None,
        created: at,
        published: None,
        statuses: StatusHistory::new(vec![StatusEntry::new(
            CorrespondenceStatus::Initialized,
            at,
            None,
        )]),
    }
}
