//! TLS for the engine, with rustls and ring (no OpenSSL, no CMake; the same
//! provider reqwest uses in the reference pipeline): the system's root
//! certificates by default, a PEM file of CAs (`--ca-cert`) for a staging
//! or test CA, or no verification at all (`--insecure`). One `ClientConfig`
//! per run, so its session cache lets reconnects resume instead of paying
//! a full handshake.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use genbench_model::{TlsMode, TlsVerify};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How the server's certificate is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Verify {
    #[default]
    SystemRoots,
    /// Only the CAs in this PEM file.
    CaCert(PathBuf),
    /// Nothing is checked (warned once, recorded in results.json).
    Insecure,
}

impl Verify {
    pub fn record(&self) -> TlsVerify {
        match self {
            Verify::SystemRoots => TlsVerify {
                mode: TlsMode::SystemRoots,
                ca_cert: None,
            },
            Verify::CaCert(p) => TlsVerify {
                mode: TlsMode::CaCert,
                ca_cert: Some(p.display().to_string()),
            },
            Verify::Insecure => TlsVerify {
                mode: TlsMode::Insecure,
                ca_cert: None,
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("--ca-cert {0}: {1}")]
    CaFile(String, String),
    #[error("--ca-cert {0} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCerts(String),
    #[error(
        "no system root certificates could be loaded ({0}); install the ca-certificates package, or pass --ca-cert FILE"
    )]
    NoSystemRoots(String),
    #[error("TLS set-up: {0}")]
    Rustls(#[from] rustls::Error),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn roots(verify: &Verify) -> Result<RootCertStore, TlsSetupError> {
    let mut store = RootCertStore::empty();
    match verify {
        Verify::CaCert(path) => {
            let name = path.display().to_string();
            let certs = read_pem(path).map_err(|e| TlsSetupError::CaFile(name.clone(), e))?;
            if certs.is_empty() {
                return Err(TlsSetupError::NoCerts(name));
            }
            for c in certs {
                store
                    .add(c)
                    .map_err(|e| TlsSetupError::CaFile(name.clone(), e.to_string()))?;
            }
        }
        Verify::SystemRoots => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                let why = found
                    .errors
                    .first()
                    .map_or("none found".to_string(), |e| e.to_string());
                return Err(TlsSetupError::NoSystemRoots(why));
            }
        }
        Verify::Insecure => {}
    }
    Ok(store)
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e:?}"))
}

/// The run's client configuration, offering `alpn` (e.g. `h2`, `http/1.1`).
pub fn client_config(verify: &Verify, alpn: &[&[u8]]) -> Result<Arc<ClientConfig>, TlsSetupError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let mut cfg = match verify {
        Verify::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth(),
        _ => builder
            .with_root_certificates(roots(verify)?)
            .with_no_client_auth(),
    };
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(cfg))
}

/// The SNI name (and name to verify) for a host: a DNS name or an IP.
pub fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    ServerName::try_from(host.to_string()).map_err(|e| format!("`{host}`: {e}"))
}

/// `--insecure`: accepts any certificate, but still checks that the
/// handshake is signed by the key the certificate names.
#[derive(Debug)]
struct NoVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What to tell a user whose handshake failed.
pub fn advice(err: &str) -> &'static str {
    if err.contains("NotValidForName") || err.contains("not valid for name") {
        "the certificate is for another host name: target the name it was issued for, or pass --insecure to skip verification (testing only)"
    } else if err.contains("Expired") || err.contains("expired") || err.contains("NotValidYet") {
        "the certificate has expired or is not valid yet: renew it, or pass --insecure to skip verification (testing only)"
    } else {
        "if the target uses a private or staging CA, pass --ca-cert FILE (PEM); to skip verification (testing only), pass --insecure"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_that_is_missing_or_empty_is_a_clear_error() {
        let dir = std::env::temp_dir();
        let e = client_config(&Verify::CaCert(dir.join("no-such-ca.pem")), &[]).unwrap_err();
        assert!(e.to_string().contains("no-such-ca.pem"), "{e}");
        let empty = dir.join(format!("genbench-empty-{}.pem", std::process::id()));
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = client_config(&Verify::CaCert(empty.clone()), &[]).unwrap_err();
        std::fs::remove_file(&empty).ok();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }

    #[test]
    fn insecure_needs_no_roots_and_names_take_ips() {
        assert!(client_config(&Verify::Insecure, &[b"h2"]).is_ok());
        assert!(server_name("127.0.0.1").is_ok());
        assert!(server_name("::1").is_ok());
        assert!(server_name("example.com").is_ok());
    }
}
