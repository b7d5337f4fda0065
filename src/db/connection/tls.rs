//! TLS for the migration connection, with `sslmode` meaning what libpq means by it:
//!
//! | sslmode       | TLS                         | certificate check                          |
//! |---------------|-----------------------------|--------------------------------------------|
//! | `disable`     | never                       | –                                          |
//! | `allow`       | only if plaintext is refused| none                                       |
//! | `prefer`      | if the server offers it     | none                                       |
//! | `require`     | always                      | none; the chain if `sslrootcert` is given  |
//! | `verify-ca`   | always                      | chain (sslrootcert, else the system roots) |
//! | `verify-full` | always                      | chain and host name                        |
//!
//! `prefer` is the default, as in libpq, and falls back to plaintext when the TLS attempt fails or
//! the server refuses it at startup (`hostssl ... reject`). `sslrootcert=system` means the system
//! trust store and implies verify-full (see [`super::url`]).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::params::{RootCert, SslMode};
use super::url::DatabaseUrl;
use crate::error::{AppError, Result};

/// How the server certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Any certificate (the handshake signatures are still checked).
    None,
    /// Chain to a trusted root, any host name (verify-ca).
    Chain,
    /// Chain and host name (verify-full).
    Full,
}

/// What the first connection attempt does with TLS: tokio-postgres' negotiation mode and the
/// check applied. The retries of `allow` and `prefer` are in [`super::connect`].
pub fn plan(url: &DatabaseUrl) -> (tokio_postgres::config::SslMode, Verification) {
    use tokio_postgres::config::SslMode as Negotiate;
    if url.is_unix_socket() {
        // As libpq: TLS is never used over a Unix socket, whatever sslmode says (the server
        // would answer 'N' anyway).
        return (Negotiate::Disable, Verification::None);
    }
    match url.ssl_mode() {
        SslMode::Disable => (Negotiate::Disable, Verification::None),
        SslMode::Allow => (Negotiate::Disable, Verification::None),
        SslMode::Prefer => (Negotiate::Prefer, Verification::None),
        // libpq: "if a root CA file exists, require behaves like verify-ca".
        SslMode::Require if url.root_cert().is_some() => (Negotiate::Require, Verification::Chain),
        SslMode::Require => (Negotiate::Require, Verification::None),
        SslMode::VerifyCa => (Negotiate::Require, Verification::Chain),
        SslMode::VerifyFull => (Negotiate::Require, Verification::Full),
    }
}

/// The negotiation mode and the rustls connector for `url`.
pub fn connector(url: &DatabaseUrl) -> Result<(tokio_postgres::config::SslMode, TlsConnector)> {
    let (negotiate, verification) = plan(url);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| AppError::usage(format!("cannot set up TLS: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match verification {
        Verification::None => Arc::new(LenientVerifier {
            provider,
            chain: None,
        }),
        Verification::Chain | Verification::Full => {
            let roots = Arc::new(root_store(url)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| AppError::usage(format!("cannot set up TLS verification: {e}")))?;
            if verification == Verification::Full {
                webpki
            } else {
                Arc::new(LenientVerifier {
                    provider,
                    chain: Some(webpki),
                })
            }
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    // No TLS, so no certificate to present (libpq does not read the files then either).
    let identity = if url.ssl_mode() == SslMode::Disable || url.is_unix_socket() {
        (None, None)
    } else {
        url.client_identity()
    };
    let config = match identity {
        (None, None) => builder.with_no_client_auth(),
        (Some(cert), Some(key)) => {
            let (certs, private_key) = client_identity(url, cert, key)?;
            builder
                .with_client_auth_cert(certs, private_key)
                .map_err(|e| {
                    AppError::usage(format!(
                        "sslcert {} and sslkey {} do not make a usable client identity: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?
        }
        (Some(_), None) | (None, Some(_)) => {
            let given = if identity.0.is_some() {
                "sslcert"
            } else {
                "sslkey"
            };
            return Err(AppError::usage(format!(
                "only {given}{} is given, not both sslcert and sslkey: a client certificate needs both",
                url.origin(given)
            )));
        }
    };
    Ok((
        negotiate,
        TlsConnector {
            rustls: MakeRustlsConnect::new(config),
            handshake_started: Arc::new(AtomicBool::new(false)),
        },
    ))
}

/// The rustls connector, remembering whether the server agreed to TLS: libpq's `prefer` retries
/// without TLS only when the refused session was a TLS one.
#[derive(Clone)]
pub struct TlsConnector {
    rustls: MakeRustlsConnect,
    handshake_started: Arc<AtomicBool>,
}

impl TlsConnector {
    /// A connector for a new attempt, with its own record of whether TLS was used.
    pub fn fresh(&self) -> TlsConnector {
        TlsConnector {
            rustls: self.rustls.clone(),
            handshake_started: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The server answered the SSLRequest with 'S' and a TLS handshake began.
    pub fn tls_was_used(&self) -> bool {
        self.handshake_started.load(Ordering::SeqCst)
    }
}

impl<S> MakeTlsConnect<S> for TlsConnector
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Stream = <MakeRustlsConnect as MakeTlsConnect<S>>::Stream;
    type TlsConnect = NotingTlsConnect<<MakeRustlsConnect as MakeTlsConnect<S>>::TlsConnect>;
    type Error = <MakeRustlsConnect as MakeTlsConnect<S>>::Error;

    fn make_tls_connect(
        &mut self,
        domain: &str,
    ) -> std::result::Result<Self::TlsConnect, Self::Error> {
        Ok(NotingTlsConnect {
            inner: MakeTlsConnect::<S>::make_tls_connect(&mut self.rustls, domain)?,
            handshake_started: self.handshake_started.clone(),
        })
    }
}

/// One TLS handshake of a [`TlsConnector`]; tokio-postgres calls it only after the server's 'S'.
pub struct NotingTlsConnect<T> {
    inner: T,
    handshake_started: Arc<AtomicBool>,
}

impl<S, T: TlsConnect<S>> TlsConnect<S> for NotingTlsConnect<T> {
    type Stream = T::Stream;
    type Error = T::Error;
    type Future = T::Future;

    fn connect(self, stream: S) -> Self::Future {
        self.handshake_started.store(true, Ordering::SeqCst);
        self.inner.connect(stream)
    }
}

fn client_identity(
    url: &DatabaseUrl,
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let unreadable = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        AppError::usage(format!(
            "{what} {}{} cannot be used: {e} (expected a PEM file)",
            path.display(),
            url.origin(what)
        ))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| unreadable("sslcert", cert, &e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| unreadable("sslcert", cert, &e))?;
    if certs.is_empty() {
        return Err(unreadable("sslcert", cert, &"no certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| unreadable("sslkey", key, &e))?;
    Ok((certs, key))
}

fn root_store(url: &DatabaseUrl) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match url.root_cert() {
        Some(RootCert::File(path)) => {
            let bytes = std::fs::read(path).map_err(|e| {
                AppError::usage(format!(
                    "sslrootcert {}{} cannot be read ({}): point sslrootcert at the PEM file of the server's CA",
                    path.display(),
                    url.origin("sslrootcert"),
                    match e.kind() {
                        std::io::ErrorKind::NotFound => "no such file".to_string(),
                        _ => e.to_string(),
                    }
                ))
            })?;
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| {
                    AppError::usage(format!(
                        "sslrootcert {}{} is not a valid PEM certificate file: {e}",
                        path.display(),
                        url.origin("sslrootcert")
                    ))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(AppError::usage(format!(
                    "sslrootcert {}{} holds no usable CA certificate (expected PEM `BEGIN CERTIFICATE` blocks)",
                    path.display(),
                    url.origin("sslrootcert")
                )));
            }
        }
        Some(RootCert::System) | None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(AppError::usage(format!(
                    "sslmode={} needs trusted CA certificates but the system has none: set sslrootcert=/path/to/ca.pem in the database URL",
                    url.ssl_mode()
                )));
            }
        }
    }
    Ok(roots)
}

/// Why a TLS handshake failed, phrased for a person and naming the `sslmode` to change.
pub fn describe_failure(url: &DatabaseUrl, err: &rustls::Error) -> String {
    let mode = url.ssl_mode();
    let target = url.display();
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the server's TLS certificate is not valid for host {} (sslmode={mode}) connecting to {target}: use a host name the certificate names, or sslmode=verify-ca to skip the host name check",
                    url.host()
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => format!(
                "the server's TLS certificate has expired (sslmode={mode}) connecting to {target}: renew it on the server, or {}",
                skip_verification_hint(mode)
            ),
            _ => format!(
                "the server's TLS certificate is not trusted (sslmode={mode}) connecting to {target}: {}; point sslrootcert at the CA that issued it, or {}",
                describe_certificate_error(cert),
                skip_verification_hint(mode)
            ),
        },
        rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA,
        ) => match url.client_identity() {
            (Some(cert), _) => format!(
                "the server at {target} did not accept the client certificate {} (sslcert): check that it is signed by a CA the server trusts and names user \"{}\"",
                cert.display(),
                url.user()
            ),
            _ => format!(
                "the server at {target} requires a TLS client certificate: add sslcert=CERT.pem&sslkey=KEY.pem to the database URL"
            ),
        },
        other => format!(
            "TLS handshake with {target} failed (sslmode={mode}): {other}; check the server's TLS setup or change sslmode"
        ),
    }
}

fn skip_verification_hint(mode: SslMode) -> &'static str {
    if mode == SslMode::Require {
        // libpq verifies the chain under `require` too when a root file is given.
        "drop sslrootcert from the URL to skip verification"
    } else {
        "use sslmode=require to skip verification"
    }
}

fn describe_certificate_error(err: &CertificateError) -> String {
    match err {
        CertificateError::UnknownIssuer => {
            "it is not signed by a trusted CA (sslrootcert or the system roots)".to_string()
        }
        CertificateError::BadSignature => "its signature does not verify".to_string(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet".to_string()
        }
        CertificateError::Revoked => "it has been revoked".to_string(),
        other => format!("{other:?}"),
    }
}

/// The certificate checks weaker than verify-full, in one verifier. Without `chain` (`prefer`,
/// `require`): encrypt, but accept any certificate, as libpq does. With it (`verify-ca`): the full
/// WebPKI check except that a host name mismatch is accepted; WebPKI checks the chain before the
/// name, so a name error means the chain was trusted. The handshake signatures are always
/// checked, so the session key belongs to whoever holds the certificate.
#[derive(Debug)]
struct LenientVerifier {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for LenientVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_postgres::config::SslMode as Negotiate;

    fn plan_of(raw: &str) -> (Negotiate, Verification) {
        plan(&DatabaseUrl::parse(raw).unwrap())
    }

    #[test]
    fn sslmode_means_what_libpq_means() {
        let base = "postgres://u@h/d";
        assert_eq!(plan_of(base), (Negotiate::Prefer, Verification::None));
        assert_eq!(
            plan_of(&format!("{base}?sslmode=disable")),
            (Negotiate::Disable, Verification::None)
        );
        assert_eq!(
            plan_of(&format!("{base}?sslmode=allow")),
            (Negotiate::Disable, Verification::None)
        );
        assert_eq!(
            plan_of(&format!("{base}?sslmode=require")),
            (Negotiate::Require, Verification::None)
        );
        assert_eq!(
            plan_of(&format!("{base}?sslmode=require&sslrootcert=/ca.pem")),
            (Negotiate::Require, Verification::Chain)
        );
        assert_eq!(
            plan_of(&format!("{base}?sslmode=verify-ca")),
            (Negotiate::Require, Verification::Chain)
        );
        assert_eq!(
            plan_of(&format!("{base}?sslmode=verify-full&sslrootcert=system")),
            (Negotiate::Require, Verification::Full)
        );
    }

    #[test]
    fn unknown_sslmode_lists_the_valid_ones() {
        let err = SslMode::parse("always").unwrap_err();
        assert!(err.message.contains("verify-full"), "{}", err.message);
    }

    #[test]
    fn missing_root_file_is_named() {
        let url = DatabaseUrl::parse(
            "postgres://u@h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        )
        .unwrap();
        let err = connector(&url).err().expect("missing file must fail");
        assert!(
            err.message.contains("/nonexistent/ca.pem"),
            "{}",
            err.message
        );
        assert!(err.message.contains("no such file"), "{}", err.message);
    }

    #[test]
    fn client_certificate_files_are_read_only_when_tls_may_be_used() {
        let missing = "sslcert=/nonexistent/c.pem&sslkey=/nonexistent/c.key";
        let url = |mode: &str| {
            DatabaseUrl::parse(&format!("postgres://u@h/d?sslmode={mode}&{missing}")).unwrap()
        };
        assert!(connector(&url("disable")).is_ok());
        let err = connector(&url("require")).err().expect("missing sslcert");
        assert!(
            err.message.contains("/nonexistent/c.pem"),
            "{}",
            err.message
        );
    }

    #[test]
    fn failures_name_the_sslmode_to_change() {
        let url =
            DatabaseUrl::parse("postgres://u:pw@db.example.com/d?sslmode=verify-full").unwrap();
        let mismatch = describe_failure(
            &url,
            &rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
        );
        assert!(
            mismatch.contains("not valid for host db.example.com"),
            "{mismatch}"
        );
        assert!(mismatch.contains("sslmode=verify-ca"), "{mismatch}");
        let untrusted = describe_failure(
            &url,
            &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        assert!(untrusted.contains("not trusted"), "{untrusted}");
        assert!(untrusted.contains("sslmode=require"), "{untrusted}");
    }
}
