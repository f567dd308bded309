//! `offboard` over HTTPS, with the crypto provider it installs (`ring`): the
//! simulator behind a TLS front whose certificate a private CA signed
//! (`tests/fixtures/tls/`), as a company portal with its own CA.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::apply::{DEMO_MANIFEST, demo_portal, quick, write_manifest};
use crate::support::{against, finish, repo};

/// Serves `https://localhost:PORT/` in front of the plain HTTP server at `upstream`
/// (`host:port`); returns the port.
async fn tls_front(upstream: String) -> u16 {
    let dir = repo().join("tests/fixtures/tls");
    let certs = CertificateDer::pem_file_iter(dir.join("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let config = ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let upstream = upstream.clone();
            tokio::spawn(async move {
                // A refused handshake ends this connection only.
                let Ok(mut tls) = acceptor.accept(client).await else {
                    return;
                };
                let mut plain = TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn plan_reads_a_portal_over_https_and_refuses_a_certificate_it_cannot_trust() {
    let sim = demo_portal(quick()).await;
    let upstream = sim
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let port = tls_front(upstream).await;
    let https = format!("https://localhost:{port}/");
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_manifest(dir.path(), DEMO_MANIFEST);
    let plan = |url: &str| against(url, sim.owner_key(), "plan", &[manifest.to_str().unwrap()]);

    let plain = finish(plan(&sim.url())).await;
    assert_eq!(plain.code, 0, "{}", plain.stderr);

    // Trusted through the company CA, as `SSL_CERT_FILE` names it.
    let mut trusted = plan(&https);
    trusted.env("SSL_CERT_FILE", repo().join("tests/fixtures/tls/ca.pem"));
    let trusted = finish(trusted).await;
    assert_eq!(trusted.code, 0, "{}", trusted.stderr);
    assert_eq!(
        trusted
            .stdout
            .replace(https.trim_end_matches('/'), "PORTAL"),
        plain.stdout.replace(&sim.url(), "PORTAL"),
        "the same plan over HTTPS"
    );

    // Without the CA, the certificate is refused before the key is sent.
    let before = sim.stats()["byRoute"].clone();
    let mut untrusted = plan(&https);
    untrusted
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    let untrusted = finish(untrusted).await;
    assert_ne!(untrusted.code, 0);
    assert!(
        untrusted.stderr.to_lowercase().contains("certificate"),
        "{}",
        untrusted.stderr
    );
    assert_eq!(
        sim.stats()["byRoute"],
        before,
        "no request reached the portal"
    );
}
