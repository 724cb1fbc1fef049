//! Webhook signature (`x-line-signature`): Base64 of HMAC-SHA256 over the raw request body,
//! keyed with the channel secret.
//!
//! The signature is the only thing that proves a webhook came from LINE, so it must be checked
//! over the exact bytes received (before any JSON parsing) and compared in constant time, so that
//! response timing does not leak how many leading bytes of a forged signature were right.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The name of the header that carries the signature (HTTP header names are case-insensitive;
/// LINE sends it as `x-line-signature`).
pub const SIGNATURE_HEADER: &str = "x-line-signature";

fn mac(channel_secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(channel_secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    };
    mac.update(body);
    mac
}

/// Computes the signature LINE would send for `body`: Base64 (standard alphabet, padded) of
/// HMAC-SHA256(channel_secret, body). Used by tests and the local stack to sign webhooks.
pub fn sign(channel_secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(mac(channel_secret, body).finalize().into_bytes())
}

/// Checks an `x-line-signature` header value against `body`.
///
/// Returns `false` for anything that is not a valid Base64 encoding of the expected 32-byte MAC
/// (including empty or garbage headers); never panics. The comparison is constant-time
/// (`hmac`'s `verify_slice` uses `subtle`).
pub fn verify(channel_secret: &[u8], body: &[u8], header_value: &str) -> bool {
    let Ok(provided) = STANDARD.decode(header_value.trim().as_bytes()) else {
        return false;
    };
    mac(channel_secret, body).verify_slice(&provided).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected signatures below were computed independently of this code with Python's
    // standard library:
    //   python3 -c 'import hmac,hashlib,base64; \
    //     print(base64.b64encode(hmac.new(SECRET, BODY, hashlib.sha256).digest()).decode())'
    const VECTORS: &[(&[u8], &[u8], &str)] = &[
        (
            b"8c570fa6dd201bb328f1c1eac23a96d8",
            br#"{"destination":"U0123456789abcdef0123456789abcdef","events":[]}"#,
            "j2zwSWvscnRkmVay2eMQI+B6oSOp3bA8F1CD3kPwJNo=",
        ),
        (
            b"secret",
            b"",
            "+eZuF5tnR65UEI+C+K3os8Jddv0wr95sOVgixTAZYWk=",
        ),
        (
            "テスト秘密".as_bytes(),
            "{\"text\":\"こんにちは\"}".as_bytes(),
            "dgJtoMOYwr+dpS+KrNf9lWJa86fEJVUTwwNdCVSoyb8=",
        ),
    ];

    #[test]
    fn sign_matches_independently_computed_vectors() {
        for (secret, body, expected) in VECTORS {
            assert_eq!(sign(secret, body), *expected);
        }
    }

    #[test]
    fn verify_accepts_correct_signatures() {
        for (secret, body, expected) in VECTORS {
            assert!(verify(secret, body, expected));
        }
    }

    #[test]
    fn verify_rejects_a_changed_body_or_secret() {
        let (secret, body, sig) = VECTORS[0];
        let mut tampered = body.to_vec();
        tampered[2] ^= 1;
        assert!(!verify(secret, &tampered, sig));
        assert!(!verify(b"another secret", body, sig));
    }

    #[test]
    fn verify_rejects_malformed_headers_without_panicking() {
        let (secret, body, sig) = VECTORS[0];
        for header in [
            "",
            "   ",
            "not base64 !!!",
            "AAAA",                // valid Base64, wrong length
            &sig[..sig.len() - 4], // truncated
            &format!("{sig}AAAA"), // too long
            "ＡＢＣ",              // non-ASCII
        ] {
            assert!(!verify(secret, body, header), "accepted {header:?}");
        }
    }
}
