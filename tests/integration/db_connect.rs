//! The migration connection against real PostgreSQL: `?schema=`, errors a person can act on (and
//! that never show the password), TLS per `sslmode` through a TLS-terminating proxy in front of
//! the test server, and `pg_dump` backups.

use std::path::PathBuf;
use std::sync::Arc;

use migration_gate::db::backup::pg_dump;
use migration_gate::db::connection::connect::{connect, server_version};
use migration_gate::db::connection::url::DatabaseUrl;
use migration_gate::error::AppError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use crate::support::{server_url, TestDb};

const PASSWORD: &str = "hunter2-Secret";

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

/// The password the test server takes: the one in `TEST_DATABASE_URL`, else [`PASSWORD`] (the
/// local server trusts local connections, so any password works and tests can look for it).
fn server_password() -> String {
    DatabaseUrl::parse(&server_url())
        .ok()
        .and_then(|url| url.password())
        .unwrap_or_else(|| PASSWORD.to_string())
}

fn encoded_password() -> String {
    percent_encoding::utf8_percent_encode(&server_password(), percent_encoding::NON_ALPHANUMERIC)
        .to_string()
}

/// The test database's URL with the password and our own host/port/query.
fn url_for(db: &TestDb, host: &str, port: u16, query: &str) -> String {
    let server = DatabaseUrl::parse(&db.url).expect("test URL");
    format!(
        "postgresql://{}:{}@{host}:{port}/{}{query}",
        server.user(),
        encoded_password(),
        db.name
    )
}

fn direct_url(db: &TestDb, query: &str) -> String {
    let server = DatabaseUrl::parse(&db.url).expect("test URL");
    url_for(db, &server.host_display(), server.port(), query)
}

/// Connect with `raw` and run `sql`, returning the first column of the first row.
fn connect_and_query(raw: &str, sql: &str) -> Result<String, AppError> {
    let url = DatabaseUrl::parse(raw)?;
    block_on(async {
        let client = connect(&url).await?;
        let row = client.query_one(sql, &[]).await.expect("query");
        Ok(row.get::<_, String>(0))
    })
}

fn connect_error(raw: &str) -> String {
    let err = connect_and_query(raw, "SELECT 'connected'").expect_err("connection must fail");
    for password in [PASSWORD.to_string(), server_password()] {
        assert!(
            !err.message.contains(&password),
            "password shown: {}",
            err.message
        );
    }
    assert!(
        !err.message.contains("postgresql://"),
        "URL shown: {}",
        err.message
    );
    assert!(!err.message.contains('\n'), "not one line: {}", err.message);
    err.message
}

fn fixture(name: &str) -> String {
    crate::support::repo_root()
        .join("fixtures/tls")
        .join(name)
        .display()
        .to_string()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn schema_from_url_is_created_and_becomes_the_search_path() {
    let db = TestDb::new();
    let raw = direct_url(&db, "?schema=Billing%20Ops&application_name=gate-test");
    let url = DatabaseUrl::parse(&raw).unwrap();
    let (schema, app) = block_on(async {
        let client = connect(&url).await.expect("connect");
        client
            .batch_execute("CREATE TABLE invoices (id int)")
            .await
            .expect("create in schema");
        let row = client
            .query_one(
                "SELECT current_schema()::text, current_setting('application_name')",
                &[],
            )
            .await
            .unwrap();
        (row.get::<_, String>(0), row.get::<_, String>(1))
    });
    assert_eq!(schema, "Billing Ops");
    assert_eq!(app, "gate-test");
    assert_eq!(
        db.query(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'invoices'"
        ),
        vec![vec!["Billing Ops".to_string()]]
    );

    // A second connection finds the schema and its table again.
    let count = connect_and_query(&raw, "SELECT count(*)::text FROM invoices").unwrap();
    assert_eq!(count, "0");
}

#[test]
fn default_schema_is_public() {
    let db = TestDb::new();
    let schema = connect_and_query(&direct_url(&db, ""), "SELECT current_schema()::text").unwrap();
    assert_eq!(schema, "public");
}

#[test]
fn server_version_is_the_major_number() {
    let db = TestDb::new();
    let url = DatabaseUrl::parse(&direct_url(&db, "")).unwrap();
    let major = block_on(async { server_version(&connect(&url).await.unwrap()).await.unwrap() });
    let expected: u32 = db.query("SHOW server_version_num")[0][0]
        .parse::<u32>()
        .unwrap()
        / 10_000;
    assert_eq!(major, expected);
    assert!(major >= 10, "{major}");
}

#[test]
fn unreachable_port_is_one_line_naming_host_and_port() {
    let port = free_port();
    let message = connect_error(&format!(
        "postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/app"
    ));
    assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn unknown_database_is_named() {
    let db = TestDb::new();
    let server = DatabaseUrl::parse(&db.url).unwrap();
    let message = connect_error(&format!(
        "postgresql://{}:{}@{}:{}/no_such_db_here",
        server.user(),
        encoded_password(),
        server.host_display(),
        server.port()
    ));
    assert!(
        message.contains("database \"no_such_db_here\" does not exist"),
        "{message}"
    );
}

#[test]
fn role_that_may_not_log_in_is_named() {
    let db = TestDb::new();
    let role = format!("{}_nologin", db.name);
    // With a password, so a server that authenticates gets as far as the NOLOGIN check.
    db.execute(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} NOLOGIN PASSWORD '{}'",
        server_password().replace('\'', "''")
    ));
    let server = DatabaseUrl::parse(&db.url).unwrap();
    let message = connect_error(&format!(
        "postgresql://{role}:{}@{}:{}/{}",
        encoded_password(),
        server.host_display(),
        server.port(),
        db.name
    ));
    db.execute(&format!("DROP ROLE {role}"));
    assert!(
        message.contains(&format!("refused user \"{role}\"")),
        "{message}"
    );
    assert!(message.contains("not permitted to log in"), "{message}");
}

#[test]
fn server_that_never_answers_times_out() {
    // Accepts the TCP connection and says nothing, like a stuck proxy.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let message = connect_error(&format!(
        "postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/app?connect_timeout=1&sslmode=disable"
    ));
    drop(listener);
    assert!(message.contains("timed out after 1s"), "{message}");
    assert!(message.contains("connect_timeout"), "{message}");
}

#[test]
fn a_multi_line_server_error_is_shown_on_one_line() {
    // Whatever the server says must not start a line of its own in a CI log, where
    // `::error::...` would be read as a workflow command.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut client, _) = listener.accept().unwrap();
        let mut length = [0u8; 4];
        client.read_exact(&mut length).unwrap();
        let mut startup = vec![0u8; u32::from_be_bytes(length) as usize - 4];
        client.read_exact(&mut startup).unwrap();
        let frame = error_response("53300", "sorry\n::error::injected by the server");
        client.write_all(&frame).unwrap();
    });
    let message = connect_error(&format!(
        "postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/app?sslmode=disable"
    ));
    server.join().unwrap();
    assert!(message.contains("sorry ::error::injected"), "{message}");
}

#[test]
fn a_timeout_from_pgconnect_timeout_names_the_variable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let project = crate::support::Project::new();
    let output = crate::support::bin()
        .current_dir(project.path())
        .env("PGCONNECT_TIMEOUT", "1")
        .args([
            "status",
            "--database-url",
            &format!("postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/app?sslmode=disable"),
        ])
        .output()
        .unwrap();
    drop(listener);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("timed out after 1s"), "{stderr}");
    assert!(stderr.contains("PGCONNECT_TIMEOUT"), "{stderr}");
}

/// A private PostgreSQL cluster with scram-sha-256 password authentication (the shared test
/// server trusts local connections, so it cannot show a wrong password). Stopped on drop.
struct PasswordServer {
    dir: tempfile::TempDir,
    port: u16,
    bindir: PathBuf,
    as_postgres_user: bool,
}

const CLUSTER_PASSWORD: &str = "p@ss:w/rd%";
const CLUSTER_PASSWORD_ENCODED: &str = "p%40ss%3Aw%2Frd%25";

/// What a [`PasswordServer`] runs with besides password authentication.
#[derive(Default)]
struct ServerSetup<'a> {
    /// `ssl = on` with the fixture CA's `server.pem` (valid for localhost and 127.0.0.1).
    tls: bool,
    /// pg_hba.conf lines replacing initdb's.
    hba: Option<&'a str>,
    /// Extra `-c name=value` settings.
    settings: &'a [&'a str],
}

impl PasswordServer {
    fn start() -> PasswordServer {
        PasswordServer::start_with(ServerSetup::default())
    }

    fn start_with(setup: ServerSetup<'_>) -> PasswordServer {
        let bindir = postgres_bindir();
        // initdb refuses to run as root; the packaged `postgres` user runs the cluster then.
        let as_postgres_user = std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let dir = tempfile::tempdir().unwrap();
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, CLUSTER_PASSWORD).unwrap();
        let server = PasswordServer {
            port: free_port(),
            dir,
            bindir,
            as_postgres_user,
        };
        let mut owned_by_server = vec![server.dir.path().to_path_buf(), pwfile.clone()];
        if setup.tls {
            for name in ["server.pem", "server.key"] {
                let copy = server.dir.path().join(name);
                std::fs::copy(fixture(name), &copy).unwrap();
                // PostgreSQL refuses a key others can read.
                std::fs::set_permissions(
                    &copy,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .unwrap();
                owned_by_server.push(copy);
            }
        }
        if as_postgres_user {
            for path in &owned_by_server {
                let status = std::process::Command::new("chown")
                    .arg("postgres")
                    .arg(path)
                    .status()
                    .unwrap();
                assert!(status.success(), "chown postgres {}", path.display());
            }
        }
        let data = server.dir.path().join("data");
        server.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=scram-sha-256".as_ref(),
                format!("--pwfile={}", pwfile.display()).as_ref(),
                "-N".as_ref(),
            ],
        );
        if let Some(hba) = setup.hba {
            std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        }
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            server.port,
            server.dir.path().display()
        );
        if setup.tls {
            let dir = server.dir.path().display();
            options.push_str(&format!(
                " -c ssl=on -c ssl_cert_file={dir}/server.pem -c ssl_key_file={dir}/server.key"
            ));
        }
        for setting in setup.settings {
            options.push_str(&format!(" -c {setting}"));
        }
        let log = server.dir.path().join("log");
        server.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        );
        server
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) {
        let program = self.bindir.join(program);
        let mut command = if self.as_postgres_user {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            std::process::Command::new(&program)
        };
        let output = command.args(args).output().expect("run PostgreSQL tool");
        assert!(
            output.status.success(),
            "{}: {}",
            program.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn url(&self, userinfo: &str) -> String {
        format!(
            "postgresql://{userinfo}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// `user` with the cluster password at `host` (127.0.0.1 or localhost), then `query`.
    fn url_for_user(&self, user: &str, host: &str, query: &str) -> String {
        format!(
            "postgresql://{user}:{CLUSTER_PASSWORD_ENCODED}@{host}:{}/postgres{query}",
            self.port
        )
    }

    /// Run `sql` as the superuser over the Unix socket (the pg_hba lines given must trust it).
    fn psql_admin(&self, sql: &str) {
        let output = std::process::Command::new(self.bindir.join("psql"))
            .args([
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .arg("-h")
            .arg(self.dir.path())
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(sql)
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

/// What libpq (`psql`) makes of `url`: the first column of `sql`'s first row, or its error.
fn psql_query(url: &str, sql: &str) -> Result<String, String> {
    let output = std::process::Command::new(postgres_bindir().join("psql"))
        .args(["-X", "-A", "-t", "-c", sql, url])
        .env_remove("PGPASSWORD")
        .env_remove("PGSSLMODE")
        .env_remove("PGSSLROOTCERT")
        .output()
        .expect("run psql");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

impl Drop for PasswordServer {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let mut command = if self.as_postgres_user {
            let mut command = std::process::Command::new("runuser");
            command
                .args(["-u", "postgres", "--"])
                .arg(self.bindir.join("pg_ctl"));
            command
        } else {
            std::process::Command::new(self.bindir.join("pg_ctl"))
        };
        let _ = command
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// Where `initdb` and `pg_ctl` live: `pg_config --bindir`, else the Debian layout.
fn postgres_bindir() -> PathBuf {
    let from_pg_config = std::process::Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| dir.join("initdb").exists());
    let from_debian = || {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|dir| dir.join("initdb").exists())
            .collect();
        dirs.sort();
        dirs.pop()
    };
    from_pg_config.or_else(from_debian).expect(
        "this test needs the PostgreSQL server binaries (initdb, pg_ctl); see README 'Tests'",
    )
}

#[test]
fn password_authentication_decodes_the_password_and_names_the_user_on_failure() {
    let server = PasswordServer::start();

    let got = connect_and_query(
        &server.url(&format!("postgres:{CLUSTER_PASSWORD_ENCODED}")),
        "SELECT current_user::text",
    )
    .expect("the percent-encoded password authenticates");
    assert_eq!(got, "postgres");

    let wrong = connect_error(&server.url(&format!("postgres:{PASSWORD}")));
    assert!(
        wrong.contains("authentication failed for user \"postgres\""),
        "{wrong}"
    );
    assert!(
        wrong.contains("check the user name and password"),
        "{wrong}"
    );

    let missing = connect_error(&server.url("postgres"));
    assert!(missing.contains("the database URL has none"), "{missing}");

    // The cluster runs without TLS, so SCRAM cannot be bound to a TLS session.
    let unbound = connect_error(&format!(
        "{}&channel_binding=require",
        server.url(&format!("postgres:{CLUSTER_PASSWORD_ENCODED}"))
    ));
    assert!(unbound.contains("channel_binding=require"), "{unbound}");
    assert!(unbound.contains("sslmode=require"), "{unbound}");
}

// --- TLS ---------------------------------------------------------------------------------------

/// How the proxy answers PostgreSQL's SSLRequest.
#[derive(Clone, Copy)]
enum ProxyKind {
    /// 'S', TLS with the given certificate, and plain startup messages refused (a hostssl-only
    /// server).
    TlsOnly,
    /// 'N' and plain TCP (a server without SSL).
    NoTls,
    /// 'S' and then a hang-up instead of a TLS handshake; plain startup messages are served.
    BrokenTls,
}

/// A PostgreSQL front end on 127.0.0.1 that pipes to the test server.
struct Proxy {
    port: u16,
}

impl Proxy {
    fn tls(cert: &str, key: &str) -> Proxy {
        Proxy::tls_with(cert, key, false)
    }

    /// Like [`Proxy::tls`], and the client must show a certificate signed by the test CA.
    fn tls_requiring_client_cert() -> Proxy {
        Proxy::tls_with("server.pem", "server.key", true)
    }

    fn tls_with(cert: &str, key: &str, require_client_cert: bool) -> Proxy {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(fixture(cert))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(fixture(key)).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            for ca in CertificateDer::pem_file_iter(fixture("ca.pem")).unwrap() {
                roots.add(ca.unwrap()).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let config = builder.with_single_cert(certs, key).unwrap();
        Proxy::start(
            ProxyKind::TlsOnly,
            Some(TlsAcceptor::from(Arc::new(config))),
        )
    }

    fn without_tls() -> Proxy {
        Proxy::start(ProxyKind::NoTls, None)
    }

    fn broken_tls() -> Proxy {
        Proxy::start(ProxyKind::BrokenTls, None)
    }

    fn start(kind: ProxyKind, acceptor: Option<TlsAcceptor>) -> Proxy {
        let server = DatabaseUrl::parse(&server_url()).unwrap();
        let upstream = format!("{}:{}", server.host_display(), server.port());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((socket, _)) = listener.accept().await {
                    tokio::spawn(serve(socket, kind, acceptor.clone(), upstream.clone()));
                }
            })
        });
        Proxy { port }
    }

    fn url(&self, db: &TestDb, host: &str, query: &str) -> String {
        url_for(db, host, self.port, query)
    }
}

const SSL_REQUEST_CODE: u32 = 80_877_103;

async fn serve(mut client: TcpStream, kind: ProxyKind, tls: Option<TlsAcceptor>, upstream: String) {
    let mut head = [0u8; 8];
    if client.read_exact(&mut head).await.is_err() {
        return;
    }
    let length = u32::from_be_bytes(head[..4].try_into().unwrap()) as usize;
    let code = u32::from_be_bytes(head[4..].try_into().unwrap());
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        return;
    };
    match (kind, code == SSL_REQUEST_CODE && length == 8) {
        (ProxyKind::TlsOnly, true) => {
            if client.write_all(b"S").await.is_err() {
                return;
            }
            let Ok(mut tls) = tls.expect("acceptor").accept(client).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
        }
        (ProxyKind::TlsOnly, false) => {
            let mut rest = vec![0u8; length.saturating_sub(8)];
            let _ = client.read_exact(&mut rest).await;
            let _ = client
                .write_all(&error_response(
                    "28000",
                    "no pg_hba.conf entry for host \"127.0.0.1\", no encryption",
                ))
                .await;
        }
        (ProxyKind::NoTls, true) => {
            if client.write_all(b"N").await.is_err() {
                return;
            }
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
        (ProxyKind::BrokenTls, true) => {
            let _ = client.write_all(b"S").await;
        }
        (ProxyKind::NoTls | ProxyKind::BrokenTls, false) => {
            if server.write_all(&head).await.is_ok() {
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            }
        }
    }
}

/// A FATAL ErrorResponse as PostgreSQL sends it.
fn error_response(code: &str, message: &str) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', code),
        (b'M', message),
    ] {
        body.push(field);
        body.extend_from_slice(value.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut frame = vec![b'E'];
    frame.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

#[test]
fn verify_full_with_the_fixture_ca_connects_by_ip_and_name() {
    let db = TestDb::new();
    let proxy = Proxy::tls("server.pem", "server.key");
    let query = format!("?sslmode=verify-full&sslrootcert={}", fixture("ca.pem"));
    for host in ["127.0.0.1", "localhost"] {
        let got = connect_and_query(
            &proxy.url(&db, host, &query),
            "SELECT current_database()::text",
        )
        .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(got, db.name);
    }
}

#[test]
fn verify_full_refuses_a_certificate_for_another_host() {
    let db = TestDb::new();
    let proxy = Proxy::tls("wrong-host.pem", "wrong-host.key");
    let ca = fixture("ca.pem");
    let message = connect_error(&proxy.url(
        &db,
        "127.0.0.1",
        &format!("?sslmode=verify-full&sslrootcert={ca}"),
    ));
    assert!(
        message.contains("not valid for host 127.0.0.1"),
        "{message}"
    );
    assert!(message.contains("sslmode=verify-ca"), "{message}");

    // verify-ca checks the chain only, so the same certificate is accepted.
    let got = connect_and_query(
        &proxy.url(
            &db,
            "127.0.0.1",
            &format!("?sslmode=verify-ca&sslrootcert={ca}"),
        ),
        "SELECT 'over tls'",
    )
    .unwrap();
    assert_eq!(got, "over tls");
}

#[test]
fn verify_ca_with_the_wrong_root_is_not_trusted() {
    let db = TestDb::new();
    let proxy = Proxy::tls("server.pem", "server.key");
    for mode in ["verify-ca", "verify-full", "require"] {
        let message = connect_error(&proxy.url(
            &db,
            "127.0.0.1",
            &format!("?sslmode={mode}&sslrootcert={}", fixture("other-ca.pem")),
        ));
        assert!(message.contains("not trusted"), "{mode}: {message}");
        assert!(
            message.contains(&format!("sslmode={mode}")),
            "{mode}: {message}"
        );
        let hint = if mode == "require" {
            "drop sslrootcert"
        } else {
            "use sslmode=require to skip verification"
        };
        assert!(message.contains(hint), "{mode}: {message}");
    }
}

#[test]
fn require_and_prefer_without_a_root_encrypt_without_verifying() {
    let db = TestDb::new();
    // The wrong-host certificate from a CA nobody trusts: require does not check it (as libpq).
    let proxy = Proxy::tls("wrong-host.pem", "wrong-host.key");
    for query in ["?sslmode=require", "", "?sslmode=prefer"] {
        let got = connect_and_query(&proxy.url(&db, "127.0.0.1", query), "SELECT 'ok'")
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(got, "ok");
    }
}

#[test]
fn empty_certificate_parameters_mean_not_given_as_in_libpq() {
    // `sslrootcert=${CA}` from a template with CA unset: libpq takes the empty value as its
    // default (no file, so require does not verify) rather than a file named "".
    let db = TestDb::new();
    let proxy = Proxy::tls("wrong-host.pem", "wrong-host.key");
    let query = "?sslmode=require&sslrootcert=&sslcert=&sslkey=";
    let got = connect_and_query(&proxy.url(&db, "127.0.0.1", query), "SELECT 'ok'")
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    assert_eq!(got, "ok");
}

#[test]
fn disable_against_a_tls_only_server_fails_clearly() {
    let db = TestDb::new();
    let proxy = Proxy::tls("server.pem", "server.key");
    let message = connect_error(&proxy.url(&db, "127.0.0.1", "?sslmode=disable"));
    assert!(message.contains("no encryption"), "{message}");
    assert!(message.contains("sslmode=require"), "{message}");
}

#[test]
fn require_against_a_server_without_tls_fails_and_prefer_falls_back() {
    let db = TestDb::new();
    let proxy = Proxy::without_tls();
    let message = connect_error(&proxy.url(&db, "127.0.0.1", "?sslmode=require"));
    assert!(message.contains("does not support TLS"), "{message}");
    assert!(message.contains("sslmode=require"), "{message}");

    let got = connect_and_query(
        &proxy.url(&db, "127.0.0.1", "?sslmode=prefer"),
        "SELECT 'plain'",
    )
    .unwrap();
    assert_eq!(got, "plain");
}

// --- backup ------------------------------------------------------------------------------------

fn dump(url: &DatabaseUrl, dir: &std::path::Path) -> migration_gate::error::Result<PathBuf> {
    migration_gate::db::session::runtime()?.block_on(pg_dump(url, dir))
}

#[test]
fn pg_dump_writes_a_file_pg_restore_can_list() {
    let db = TestDb::new();
    db.execute("CREATE TABLE accounts (id int PRIMARY KEY, email text); INSERT INTO accounts VALUES (1, 'a@example.com')");
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&direct_url(&db, "?sslmode=disable")).unwrap();
    let file: PathBuf = dump(&url, &dir.path().join("backups")).expect("pg_dump");

    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with(&format!("{}-", db.name)), "{name}");
    assert!(name.ends_with(".dump"), "{name}");
    assert!(std::fs::metadata(&file).unwrap().len() > 0);

    let listing = std::process::Command::new("pg_restore")
        .arg("--list")
        .arg(&file)
        .output()
        .expect("run pg_restore");
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains("TABLE public accounts"), "{listing}");
    assert!(listing.contains("TABLE DATA public accounts"), "{listing}");
}

#[test]
fn two_backups_in_the_same_second_both_succeed_into_separate_files() {
    let db = TestDb::new();
    db.execute("CREATE TABLE accounts (id int PRIMARY KEY)");
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::parse(&direct_url(&db, "?sslmode=disable")).unwrap();
    // Three dumps of a tiny database take well under a second on any machine; the timestamp
    // in the name has one-second resolution, so at least two of them share it.
    let files: Vec<PathBuf> = (0..3)
        .map(|_| dump(&url, dir.path()).expect("a second dump in the same second"))
        .collect();
    let mut names: Vec<_> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 3, "{files:?}");
    for file in &files {
        assert!(std::fs::metadata(file).unwrap().len() > 0, "{file:?}");
    }
}

#[test]
fn a_backup_dir_that_is_a_file_says_so() {
    let db = TestDb::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backups");
    std::fs::write(&file, "not a directory").unwrap();
    let url = DatabaseUrl::parse(&direct_url(&db, "?sslmode=disable")).unwrap();
    let err = dump(&url, &file).expect_err("a file is no backup directory");
    assert!(
        err.message.contains("is not a directory"),
        "{}",
        err.message
    );
    assert!(err.message.contains("--backup-dir"), "{}", err.message);
    assert!(
        err.message.contains("nothing was applied"),
        "{}",
        err.message
    );
}

#[test]
fn pg_dump_failure_is_one_line_without_the_password() {
    let db = TestDb::new();
    let server = DatabaseUrl::parse(&db.url).unwrap();
    let url = DatabaseUrl::parse(&format!(
        "postgresql://{}:{}@{}:{}/no_such_db_for_dump?sslmode=disable",
        server.user(),
        encoded_password(),
        server.host_display(),
        server.port()
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = dump(&url, dir.path()).expect_err("dump of a missing database");
    assert!(err.message.contains("backup of"), "{}", err.message);
    assert!(
        err.message.contains("no_such_db_for_dump"),
        "{}",
        err.message
    );
    assert!(!err.message.contains(&server_password()), "{}", err.message);
    assert!(!err.message.contains('\n'), "{}", err.message);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial dump left behind"
    );
}

#[test]
fn pg_dump_verifies_against_the_system_roots_the_deploy_used() {
    // Our connection checks verify-* against the system roots when no sslrootcert is given, and
    // `sslrootcert=system` means them too; libpq before 16 reads "system" as a file name and
    // libpq of any version looks for ~/.postgresql/root.crt without sslrootcert. The dump must
    // verify against the same roots (here SSL_CERT_FILE, which rustls and OpenSSL both read).
    let server = PasswordServer::start_with(ServerSetup {
        tls: true,
        hba: Some("local all all trust\nhostssl all postgres 127.0.0.1/32 scram-sha-256\n"),
        ..ServerSetup::default()
    });
    for (n, query) in [
        "?sslrootcert=system",
        "?sslmode=verify-full",
        "?sslmode=verify-ca",
    ]
    .into_iter()
    .enumerate()
    {
        server.psql_admin(&format!("CREATE DATABASE roots_{n}"));
        let project = crate::support::Project::new();
        project.migration("20240101000000_init", "CREATE TABLE t (id int);\n");
        let url = server
            .url_for_user("postgres", "localhost", query)
            .replace("/postgres?", &format!("/roots_{n}?"));
        let backups = tempfile::tempdir().unwrap();
        let output = crate::support::bin()
            .current_dir(project.path())
            .env("SSL_CERT_FILE", fixture("ca.pem"))
            .env("HOME", backups.path())
            .env_remove("PGSSLROOTCERT")
            .env_remove("PGSSLMODE")
            .args([
                "deploy",
                "--database-url",
                &url,
                "--backup",
                "always",
                "--backup-dir",
            ])
            .arg(backups.path())
            .output()
            .unwrap();
        let stderr = crate::support::stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{query}: {stderr}");
        let dumps = std::fs::read_dir(backups.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("dump".as_ref()))
            .count();
        assert_eq!(dumps, 1, "{query}: {stderr}");
    }
}

#[test]
fn pg_dump_accepts_every_connect_timeout_the_deploy_accepts() {
    // libpq reads connect_timeout as an int: a value beyond it worked for the deploy connection
    // and then failed the backup.
    let db = TestDb::new();
    let project = crate::support::Project::new();
    project.migration("20240101000000_init", "CREATE TABLE t (id int);\n");
    let url = direct_url(&db, "?sslmode=disable&connect_timeout=99999999999");
    let backups = tempfile::tempdir().unwrap();
    let output = project.run(&[
        "deploy",
        "--database-url",
        &url,
        "--backup",
        "always",
        "--backup-dir",
        &backups.path().display().to_string(),
    ]);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        std::fs::read_dir(backups.path()).unwrap().count(),
        1,
        "{stderr}"
    );
}

#[test]
fn pg_dump_waits_as_long_as_the_deploy_connection_did() {
    // The URL's connect_timeout=0 (wait forever) wins over PGCONNECT_TIMEOUT for the deploy
    // connection; the dump must not fall back to the environment's value.
    let db = TestDb::new();
    let project = crate::support::Project::new();
    project.migration("20240101000000_init", "CREATE TABLE t (id int);\n");
    let seen = project.path().join("seen-timeout");
    let wrapper = project.write(
        "pg_dump_wrapper.sh",
        &format!(
            "#!/bin/sh\nprintf '%s' \"${{PGCONNECT_TIMEOUT-unset}}\" > '{}'\nexec pg_dump \"$@\"\n",
            seen.display()
        ),
    );
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let url = direct_url(&db, "?sslmode=disable&connect_timeout=0");
    let backups = tempfile::tempdir().unwrap();
    let output = crate::support::bin()
        .current_dir(project.path())
        .env("MIGRATION_GATE_PG_DUMP", &wrapper)
        .env("PGCONNECT_TIMEOUT", "3")
        .args([
            "deploy",
            "--database-url",
            &url,
            "--backup",
            "always",
            "--backup-dir",
        ])
        .arg(backups.path())
        .output()
        .unwrap();
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), "0");
}

// --- the CLI -----------------------------------------------------------------------------------

#[test]
fn cli_connection_error_is_one_line_without_secrets() {
    let project = crate::support::Project::new();
    let port = free_port();
    let url = format!("postgresql://app:{PASSWORD}@127.0.0.1:{port}/shop");
    let output = project.run(&["status", "--database-url", &url]);
    let stderr = crate::support::stderr(&output);
    let stdout = crate::support::stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
    for output in [&stdout, &stderr] {
        assert!(!output.contains(PASSWORD), "{output}");
        assert!(!output.contains(&url), "{output}");
    }
}

#[test]
fn cli_names_the_environment_variable_a_missing_file_came_from() {
    // A runner-wide PGSSLROOTCERT or PGSSLCERT is invisible in the URL: the error must say
    // where the path came from, or the user searches the URL for an sslrootcert it does not have.
    let project = crate::support::Project::new();
    let url = format!("postgresql://app:{PASSWORD}@127.0.0.1:{}/shop", free_port());
    for (var, query) in [
        ("PGSSLROOTCERT", "?sslmode=verify-full"),
        ("PGSSLCERT", "?sslmode=require&sslkey=%2Fno%2Fclient.key"),
        ("PGSSLKEY", "?sslmode=require"),
    ] {
        let output = crate::support::bin()
            .current_dir(project.path())
            .env(var, "/no/such/file.pem")
            .args(["status", "--database-url", &format!("{url}{query}")])
            .output()
            .unwrap();
        let stderr = crate::support::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(&format!("from {var}")), "{stderr}");
        if var != "PGSSLKEY" {
            assert!(stderr.contains("/no/such/file.pem"), "{stderr}");
        }
        assert!(!stderr.contains(PASSWORD), "{stderr}");
    }
}

#[test]
fn cli_malformed_url_from_the_environment_names_the_variable_not_the_url() {
    let project = crate::support::Project::new();
    let output = crate::support::bin()
        .current_dir(project.path())
        .args(["status"])
        .env_remove("DIRECT_URL")
        .env_remove("DATABASE_URL_UNPOOLED")
        .env_remove("POSTGRES_URL_NON_POOLING")
        .env_remove("POSTGRES_URL")
        .env(
            "DATABASE_URL",
            format!("postgresql://app:{PASSWORD}@db.example.com:54x2/shop"),
        )
        .output()
        .unwrap();
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(stderr.contains("malformed"), "{stderr}");
    assert!(stderr.contains("port"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(!stderr.contains("db.example.com"), "{stderr}");
}

#[test]
fn cli_refuses_a_pooled_url_for_deploy_naming_the_direct_variables() {
    let project = crate::support::Project::new();
    project.migration("20240101000000_init", "CREATE TABLE t (id int);\n");
    let url = format!("postgresql://app:{PASSWORD}@db.example.com:6432/shop");
    let output = project.run(&["deploy", "--database-url", &url]);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for needle in ["DIRECT_URL", "--allow-pooled", "advisory locks"] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(!stderr.contains(PASSWORD), "{stderr}");
}

#[test]
fn prefer_retries_without_tls_when_the_handshake_fails_and_require_does_not() {
    let db = TestDb::new();
    let proxy = Proxy::broken_tls();
    let got = connect_and_query(&proxy.url(&db, "127.0.0.1", ""), "SELECT 'fell back'")
        .expect("prefer falls back to plain");
    assert_eq!(got, "fell back");

    let message = connect_error(&proxy.url(&db, "127.0.0.1", "?sslmode=require"));
    assert!(message.contains("closed the connection"), "{message}");
}

#[test]
fn client_certificate_from_sslcert_and_sslkey_is_presented() {
    let db = TestDb::new();
    let proxy = Proxy::tls_requiring_client_cert();
    let verify = format!("?sslmode=verify-full&sslrootcert={}", fixture("ca.pem"));
    let with_cert = format!(
        "{verify}&sslcert={}&sslkey={}",
        fixture("client.pem"),
        fixture("client.key")
    );
    let got = connect_and_query(&proxy.url(&db, "localhost", &with_cert), "SELECT 'mutual'")
        .expect("client certificate accepted");
    assert_eq!(got, "mutual");

    let message = connect_error(&proxy.url(&db, "localhost", &verify));
    assert!(message.contains("client certificate"), "{message}");
    assert!(message.contains("sslcert="), "{message}");
}

// --- libpq's fallbacks and session ends, against TLS clusters ------------------------------------

/// `plainonly` may log in only without TLS, `tlsonly` only with it; the other transport is
/// refused at startup by a `reject` line, as on servers that pin one transport per role.
const ONE_TRANSPORT_PER_ROLE_HBA: &str = "\
local     all all                     trust
hostssl   all plainonly 127.0.0.1/32  reject
hostnossl all plainonly 127.0.0.1/32  scram-sha-256
hostnossl all tlsonly   127.0.0.1/32  reject
hostssl   all tlsonly   127.0.0.1/32  scram-sha-256
";

const SESSION_USES_TLS: &str = "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

#[test]
fn a_unix_socket_connects_without_tls_whatever_the_sslmode_like_libpq() {
    // libpq never uses TLS over a Unix socket and ignores sslmode there; the server answers
    // an SSLRequest on one with 'N'.
    let server = PasswordServer::start_with(ServerSetup {
        tls: true,
        ..ServerSetup::default()
    });
    let socket_dir = server.dir.path().display().to_string();
    for query in [
        "",
        "&sslmode=require",
        &format!("&sslmode=verify-full&sslrootcert={}", fixture("ca.pem")),
    ] {
        let url = server.url_for_user(
            "postgres",
            "localhost",
            &format!("?host={socket_dir}{query}"),
        );
        let libpq = psql_query(&url, SESSION_USES_TLS);
        let ours = connect_and_query(&url, SESSION_USES_TLS);
        assert_eq!(libpq.as_deref(), Ok("false"), "{query}");
        assert_eq!(
            ours.as_ref().map_err(|e| &e.message),
            Ok(&"false".to_string()),
            "{query}"
        );
    }
}

#[test]
fn prefer_and_allow_fall_back_like_libpq_when_the_server_refuses_one_transport() {
    let server = PasswordServer::start_with(ServerSetup {
        tls: true,
        hba: Some(ONE_TRANSPORT_PER_ROLE_HBA),
        ..ServerSetup::default()
    });
    let password = CLUSTER_PASSWORD.replace('\'', "''");
    server.psql_admin(&format!(
        "CREATE ROLE plainonly LOGIN PASSWORD '{password}'; CREATE ROLE tlsonly LOGIN PASSWORD '{password}'"
    ));
    // (role, query, session over TLS?): None when libpq refuses to connect.
    let cases = [
        ("plainonly", "", Some("false")),
        ("plainonly", "?sslmode=prefer", Some("false")),
        ("plainonly", "?sslmode=allow", Some("false")),
        ("plainonly", "?sslmode=require", None),
        ("tlsonly", "", Some("true")),
        ("tlsonly", "?sslmode=allow", Some("true")),
        ("tlsonly", "?sslmode=prefer", Some("true")),
        ("tlsonly", "?sslmode=disable", None),
    ];
    for (role, query, expected) in cases {
        let url = server.url_for_user(role, "127.0.0.1", query);
        let libpq = psql_query(&url, SESSION_USES_TLS);
        let ours = connect_and_query(&url, SESSION_USES_TLS);
        assert_eq!(
            libpq.as_deref().ok(),
            expected,
            "psql, {role}{query}: {libpq:?}"
        );
        match (&ours, expected) {
            (Ok(tls), Some(expected)) => assert_eq!(tls, expected, "{role}{query}"),
            (Err(err), None) => {
                assert!(
                    err.message.contains("refused user"),
                    "{role}{query}: {}",
                    err.message
                );
                assert!(!err.message.contains(CLUSTER_PASSWORD), "{}", err.message);
                // The hint names the sslmode that works for this role.
                let hint = if role == "plainonly" {
                    "sslmode=prefer"
                } else {
                    "sslmode=require"
                };
                assert!(err.message.contains(hint), "{role}{query}: {}", err.message);
            }
            _ => panic!("{role}{query}: libpq {libpq:?}, migration-gate {ours:?}"),
        }
    }

    // A wrong password over the accepted transport is reported as such, not as the other
    // transport's pg_hba rejection.
    let wrong = format!(
        "postgresql://tlsonly:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=prefer",
        server.port
    );
    let message = connect_error(&wrong);
    assert!(message.contains("authentication failed"), "{message}");
}

#[test]
fn tls_sessions_end_with_a_clean_close() {
    let server = PasswordServer::start_with(ServerSetup {
        tls: true,
        hba: Some("local all all trust\nhostssl all postgres 127.0.0.1/32 scram-sha-256\n"),
        settings: &["log_disconnections=on"],
    });
    let project = crate::support::Project::new();
    project.migration("20240101000000_init", "CREATE TABLE t (id int);\n");
    let url = server.url_for_user(
        "postgres",
        "localhost",
        &format!("?sslmode=verify-full&sslrootcert={}", fixture("ca.pem")),
    );
    for command in [
        &["deploy", "--database-url", &url][..],
        &["status", "--database-url", &url],
    ] {
        let output = project.run(command);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{:?}: {}{}",
            command,
            crate::support::stdout(&output),
            crate::support::stderr(&output)
        );
    }
    // The server logs each session's end; wait for both before reading what it said about them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while server.log().matches("disconnection:").count() < 2 && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = server.log();
    assert!(log.matches("disconnection:").count() >= 2, "{log}");
    for unclean in [
        "could not receive data from client",
        "connection reset by peer",
        "unexpected EOF",
        "SSL error",
    ] {
        assert!(
            !log.to_lowercase().contains(&unclean.to_lowercase()),
            "{unclean}: {log}"
        );
    }
}

#[test]
fn sslrootcert_system_refuses_weak_modes_and_verifies_the_host_by_default() {
    let db = TestDb::new();
    // The fixture CA is in no system trust store: before, no sslmode meant no check at all.
    let proxy = Proxy::tls("server.pem", "server.key");
    let message = connect_error(&proxy.url(&db, "localhost", "?sslrootcert=system"));
    assert!(message.contains("not trusted"), "{message}");
    assert!(message.contains("sslmode=verify-full"), "{message}");

    let message =
        connect_error(&proxy.url(&db, "localhost", "?sslmode=require&sslrootcert=system"));
    assert!(
        message.contains("sslmode=require cannot be used with sslrootcert=system"),
        "{message}"
    );
}

#[test]
fn cli_honours_libpq_environment_variables_below_the_url() {
    let db = TestDb::new();
    let project = crate::support::Project::new();
    let proxy = Proxy::without_tls();
    let url = proxy.url(&db, "127.0.0.1", "");
    let status = |vars: &[(&str, &str)], url: &str| {
        let mut command = crate::support::bin();
        command
            .current_dir(project.path())
            .args(["status", "--database-url", url]);
        for var in [
            "PGSSLMODE",
            "PGSSLROOTCERT",
            "PGPASSWORD",
            "DATABASE_URL",
            "DIRECT_URL",
        ] {
            command.env_remove(var);
        }
        command.envs(vars.iter().copied());
        command.output().unwrap()
    };
    // A job relying on PGSSLMODE=require is not silently sent in plaintext.
    let output = status(&[("PGSSLMODE", "require")], &url);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not support TLS"), "{stderr}");
    assert!(!stderr.contains(&server_password()), "{stderr}");
    // The URL's own sslmode wins over the environment's.
    let output = status(
        &[("PGSSLMODE", "require")],
        &format!("{url}?sslmode=disable"),
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&output)
    );
    // PGSSLROOTCERT=system with a weak sslmode in the URL is refused before connecting.
    let output = status(
        &[("PGSSLROOTCERT", "system")],
        &format!("{url}?sslmode=prefer"),
    );
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("sslrootcert=system"), "{stderr}");
    // One we cannot honour is refused, naming it.
    let output = status(&[("PGSSLCRL", "/etc/revoked.pem")], &url);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PGSSLCRL"), "{stderr}");
}

#[test]
fn cli_takes_the_password_from_pgpassword_when_the_url_has_none() {
    let server = PasswordServer::start();
    let project = crate::support::Project::new();
    let url = server.url("postgres");
    let run = |password: Option<&str>| {
        let mut command = crate::support::bin();
        command
            .current_dir(project.path())
            .args(["status", "--database-url", &url]);
        command.env_remove("PGPASSWORD").env_remove("PGSSLMODE");
        if let Some(password) = password {
            command.env("PGPASSWORD", password);
        }
        command.output().unwrap()
    };
    let output = run(Some(CLUSTER_PASSWORD));
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        crate::support::stderr(&output)
    );
    let output = run(None);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has none"), "{stderr}");
}

#[test]
fn cli_malformed_percent_escape_in_the_password_is_a_malformed_url() {
    let server = PasswordServer::start();
    let project = crate::support::Project::new();
    let url = server.url("postgres:p%zzss-hunter2");
    let output = project.run(&["status", "--database-url", &url]);
    let stderr = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("malformed"), "{stderr}");
    assert!(stderr.contains("password"), "{stderr}");
    assert!(!stderr.contains("authentication"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
