//! One TLS stack for the whole process: rustls with aws-lc-rs, the provider the AWS SDK already
//! links. reqwest is built without a provider of its own (no `ring`, which would be a second
//! copy of the same job in every Lambda binary), so it takes rustls' process-level default,
//! which is installed here before any client is built.

use std::sync::Once;

/// Installs aws-lc-rs as rustls' process-level crypto provider, once. Every `reqwest::Client`
/// in this workspace must be built after this (a client built before panics with "No provider
/// set"): [`http_client_builder`] does it for you.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err only if another provider was installed first: that one serves as well.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// `reqwest::Client::builder()` with the process's crypto provider installed.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    reqwest::Client::builder()
}

/// A `reqwest::Client` with default settings (local tools and tests; production clients set
/// their timeouts through [`http_client_builder`]).
pub fn http_client() -> reqwest::Client {
    http_client_builder()
        .build()
        .expect("a reqwest client with default settings builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_builds_once_the_provider_is_installed() {
        // Gets: no "No provider set" panic (reqwest has no provider of its own), and a
        // process default that is aws-lc-rs, the SDK's.
        let _ = http_client();
        let installed = rustls::crypto::CryptoProvider::get_default().expect("installed");
        let aws_lc = rustls::crypto::aws_lc_rs::default_provider();
        assert_eq!(
            installed.cipher_suites.len(),
            aws_lc.cipher_suites.len(),
            "the installed provider is aws-lc-rs"
        );
    }

    #[test]
    fn installing_twice_is_harmless() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }

    #[tokio::test]
    async fn an_https_request_starts_a_tls_handshake_with_the_installed_provider() {
        // Gets: the client sends a TLS ClientHello (record type 0x16) to an https URL, i.e.
        // rustls is configured and running on aws-lc-rs; the local listener then hangs up,
        // which the client reports as an error (not a panic).
        use tokio::io::AsyncReadExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut record_header = [0u8; 5];
            socket.read_exact(&mut record_header).await.unwrap();
            record_header
        });
        let result = http_client()
            .get(format!("https://127.0.0.1:{port}/"))
            .send()
            .await;
        let record_header = tokio::time::timeout(std::time::Duration::from_secs(30), server)
            .await
            .expect("the client connected and sent something")
            .unwrap();
        assert_eq!(record_header[0], 0x16, "a TLS handshake record");
        assert_eq!(record_header[1], 0x03, "TLS protocol version major 3");
        assert!(result.is_err(), "the listener hung up mid-handshake");
    }
}
