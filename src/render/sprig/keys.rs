//! Private keys as Sprig reads and writes them: `genPrivateKey`'s four kinds, the PEM blocks of
//! Sprig's `pemBlockForKey` (PKCS#1 for RSA, SEC 1 for ECDSA, OpenSSL's sequence for DSA, PKCS#8
//! for Ed25519) and `parsePrivateKeyPEM` with Go's error texts.

use der::asn1::UintRef;
use der::{Decode, Encode, Sequence};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rcgen::KeyPair;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding, PrivateKeyInfo};

use super::random::with_rng;

/// A private key of a kind Go's `crypto/x509` knows.
pub enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    Ed25519([u8; 32]),
    Dsa(Box<DsaKey>),
}

/// DSA parameters and key pair, big-endian magnitudes.
pub struct DsaKey {
    p: Vec<u8>,
    q: Vec<u8>,
    g: Vec<u8>,
    y: Vec<u8>,
    x: Vec<u8>,
}

/// Sprig's `DSAKeyFormat`, the sequence OpenSSL writes in a "DSA PRIVATE KEY" block.
#[derive(Sequence)]
struct DsaKeyFormat<'a> {
    version: u8,
    p: UintRef<'a>,
    q: UintRef<'a>,
    g: UintRef<'a>,
    y: UintRef<'a>,
    x: UintRef<'a>,
}

const OID_RSA: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_P256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// RFC 8410's PKCS#8 wrapping of an Ed25519 seed: everything before the 32 seed bytes is fixed.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl PrivateKey {
    /// An RSA key of `bits` from the render's generator.
    pub fn rsa(bits: usize) -> Result<Self, String> {
        with_rng(|rng| rsa::RsaPrivateKey::new(rng, bits))
            .map(|k| Self::Rsa(Box::new(k)))
            .map_err(|e| e.to_string())
    }

    /// Sprig's `genPrivateKey` kinds; None for a kind it does not know.
    pub fn generate(kind: &str) -> Option<Result<Self, String>> {
        Some(match kind {
            "" | "rsa" => Self::rsa(4096),
            "ecdsa" => Ok(Self::P256(with_rng(p256::SecretKey::random))),
            "ed25519" => {
                let mut seed = [0u8; 32];
                with_rng(|rng| rand_core::RngCore::fill_bytes(rng, &mut seed));
                Ok(Self::Ed25519(seed))
            }
            // Go's dsa.L2048N256.
            "dsa" => with_rng(|rng| {
                let components = dsa::Components::generate(rng, dsa::KeySize::DSA_2048_256);
                let key = dsa::SigningKey::generate(rng, components);
                let c = key.verifying_key().components();
                Ok(Self::Dsa(Box::new(DsaKey {
                    p: c.p().to_bytes_be(),
                    q: c.q().to_bytes_be(),
                    g: c.g().to_bytes_be(),
                    y: key.verifying_key().y().to_bytes_be(),
                    x: key.x().to_bytes_be(),
                })))
            }),
            _ => return None,
        })
    }

    /// Sprig's `pemBlockForKey`, encoded as Go's `pem.EncodeToMemory` writes it.
    pub fn pem(&self) -> String {
        let block = |tag: &str, der: Vec<u8>| {
            pem::encode_config(
                &pem::Pem::new(tag, der),
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            )
        };
        match self {
            Self::Rsa(k) => k
                .to_pkcs1_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            Self::P256(k) => block(
                "EC PRIVATE KEY",
                sec1_der(
                    &k.to_bytes(),
                    OID_P256,
                    k.public_key().to_encoded_point(false).as_bytes(),
                ),
            ),
            Self::P384(k) => block(
                "EC PRIVATE KEY",
                sec1_der(
                    &k.to_bytes(),
                    OID_P384,
                    k.public_key().to_encoded_point(false).as_bytes(),
                ),
            ),
            Self::Ed25519(seed) => block("PRIVATE KEY", ed25519_pkcs8(seed)),
            Self::Dsa(k) => block("DSA PRIVATE KEY", k.to_der().unwrap_or_default()),
        }
    }

    /// The key as rcgen signs with it; Go's `x509.CreateCertificate` error for a DSA key (not a
    /// `crypto.Signer`).
    pub fn signing_pair(&self) -> Result<KeyPair, String> {
        let pkcs8 = match self {
            Self::Rsa(k) => k
                .to_pkcs8_der()
                .map_err(|e| e.to_string())?
                .as_bytes()
                .to_vec(),
            Self::P256(k) => k
                .to_pkcs8_der()
                .map_err(|e| e.to_string())?
                .as_bytes()
                .to_vec(),
            Self::P384(k) => k
                .to_pkcs8_der()
                .map_err(|e| e.to_string())?
                .as_bytes()
                .to_vec(),
            Self::Ed25519(seed) => ed25519_pkcs8(seed),
            Self::Dsa(_) => {
                return Err(
                    "x509: certificate private key does not implement crypto.Signer".into(),
                );
            }
        };
        KeyPair::try_from(pkcs8).map_err(|e| e.to_string())
    }

    /// Go's `x509.CreateCertificate` refusal of a public key it cannot marshal.
    pub fn check_public(&self) -> Result<(), String> {
        match self {
            Self::Dsa(_) => Err("x509: unsupported public key type: *dsa.PublicKey".into()),
            _ => Ok(()),
        }
    }
}

/// Go's `x509.MarshalECPrivateKey`: SEC 1 with the named curve and the uncompressed public point
/// (RustCrypto's own SEC 1 encoding leaves the curve out, which Go cannot read back).
fn sec1_der(private: &[u8], curve: der::oid::ObjectIdentifier, public: &[u8]) -> Vec<u8> {
    sec1::EcPrivateKey {
        private_key: private,
        parameters: Some(sec1::EcParameters::NamedCurve(curve)),
        public_key: Some(public),
    }
    .to_der()
    .unwrap_or_default()
}

fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(seed);
    der
}

impl DsaKey {
    fn to_der(&self) -> der::Result<Vec<u8>> {
        DsaKeyFormat {
            version: 0,
            p: UintRef::new(&self.p)?,
            q: UintRef::new(&self.q)?,
            g: UintRef::new(&self.g)?,
            y: UintRef::new(&self.y)?,
            x: UintRef::new(&self.x)?,
        }
        .to_der()
    }
}

/// Sprig's `parsePrivateKeyPEM`: the first PEM block of the text, by its type.
pub fn parse_pem(text: &str) -> Result<PrivateKey, String> {
    let block = pem::parse(text).map_err(|_| "no PEM data in input".to_owned())?;
    let der = block.contents();
    let tag = block.tag();
    if tag == "PRIVATE KEY" {
        return parse_pkcs8(der).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(kind) = tag.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {tag}"));
    };
    match kind {
        "RSA" => parse_pkcs1(der).map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC" => parse_sec1(der).map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => parse_dsa(der).map_err(|e| format!("parsing DSA private key from PEM: {e}")),
        _ => Err(format!("invalid private key type {tag}")),
    }
}

/// Go's hint when DER of one key format is handed to another format's parser.
fn wrong_format(der: &[u8], own: &str) -> String {
    let hint = if own != "PKCS8" && PrivateKeyInfo::from_der(der).is_ok() {
        "ParsePKCS8PrivateKey"
    } else if own != "EC" && sec1::EcPrivateKey::from_der(der).is_ok() {
        "ParseECPrivateKey"
    } else if own != "PKCS1" && rsa::pkcs1::RsaPrivateKey::from_der(der).is_ok() {
        "ParsePKCS1PrivateKey"
    } else {
        return "asn1: structure error: malformed private key".to_owned();
    };
    format!("x509: failed to parse private key (use {hint} instead for this key format)")
}

fn parse_pkcs1(der: &[u8]) -> Result<PrivateKey, String> {
    if rsa::pkcs1::RsaPrivateKey::from_der(der).is_err() {
        return Err(wrong_format(der, "PKCS1"));
    }
    rsa::RsaPrivateKey::from_pkcs1_der(der)
        .map(|k| PrivateKey::Rsa(Box::new(k)))
        .map_err(|e| format!("crypto/rsa: {e}"))
}

fn parse_sec1(der: &[u8]) -> Result<PrivateKey, String> {
    let Ok(key) = sec1::EcPrivateKey::from_der(der) else {
        let hint = wrong_format(der, "EC");
        return Err(if hint.starts_with("asn1:") {
            format!("x509: failed to parse EC private key: {hint}")
        } else {
            hint
        });
    };
    let curve = key.parameters.and_then(|p| p.named_curve());
    ec_key(curve, der)
}

fn ec_key(curve: Option<der::oid::ObjectIdentifier>, sec1: &[u8]) -> Result<PrivateKey, String> {
    match curve {
        Some(OID_P256) => p256::SecretKey::from_sec1_der(sec1)
            .map(PrivateKey::P256)
            .map_err(|_| "x509: invalid elliptic curve private key value".to_owned()),
        Some(OID_P384) => p384::SecretKey::from_sec1_der(sec1)
            .map(PrivateKey::P384)
            .map_err(|_| "x509: invalid elliptic curve private key value".to_owned()),
        _ => Err("x509: unknown elliptic curve".to_owned()),
    }
}

fn parse_pkcs8(der: &[u8]) -> Result<PrivateKey, String> {
    let Ok(info) = PrivateKeyInfo::from_der(der) else {
        return Err(wrong_format(der, "PKCS8"));
    };
    let algorithm = info.algorithm.oid;
    if algorithm == OID_RSA {
        rsa::RsaPrivateKey::from_pkcs8_der(der)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("x509: failed to parse RSA private key embedded in PKCS#8: {e}"))
    } else if algorithm == OID_EC {
        let curve = info
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<der::oid::ObjectIdentifier>().ok());
        ec_key(curve, info.private_key)
            .map_err(|e| format!("x509: failed to parse EC private key embedded in PKCS#8: {e}"))
    } else if algorithm == OID_ED25519 {
        let seed = der::asn1::OctetStringRef::from_der(info.private_key)
            .map_err(|e| format!("x509: invalid Ed25519 private key: {e}"))?;
        let seed: [u8; 32] = seed.as_bytes().try_into().map_err(|_| {
            format!(
                "x509: invalid Ed25519 private key length: {}",
                seed.as_bytes().len()
            )
        })?;
        Ok(PrivateKey::Ed25519(seed))
    } else {
        Err(format!(
            "x509: PKCS#8 wrapping contained private key with unknown algorithm: {algorithm}"
        ))
    }
}

fn parse_dsa(der: &[u8]) -> Result<PrivateKey, String> {
    let key = DsaKeyFormat::from_der(der)
        .map_err(|_| "asn1: structure error: malformed DSA private key".to_owned())?;
    Ok(PrivateKey::Dsa(Box::new(DsaKey {
        p: key.p.as_bytes().to_vec(),
        q: key.q.as_bytes().to_vec(),
        g: key.g.as_bytes().to_vec(),
        y: key.y.as_bytes().to_vec(),
        x: key.x.as_bytes().to_vec(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_read_back_as_the_same_kind() {
        for (kind, tag) in [("ecdsa", "EC PRIVATE KEY"), ("ed25519", "PRIVATE KEY")] {
            let pem = PrivateKey::generate(kind).unwrap().unwrap().pem();
            assert!(
                pem.starts_with(&format!("-----BEGIN {tag}-----\n")),
                "{pem}"
            );
            let back = parse_pem(&pem).unwrap();
            assert_eq!(back.pem(), pem);
            back.signing_pair().unwrap();
        }
        assert!(PrivateKey::generate("nope").is_none());
    }

    #[test]
    fn parse_errors_are_go_texts() {
        let err = |text: &str| parse_pem(text).err().unwrap();
        assert_eq!(err("not a key"), "no PEM data in input");
        assert_eq!(
            err("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "no private key data in PEM block of type CERTIFICATE"
        );
        assert_eq!(
            err("-----BEGIN FOO PRIVATE KEY-----\nAAAA\n-----END FOO PRIVATE KEY-----\n"),
            "invalid private key type FOO PRIVATE KEY"
        );
        let ec = PrivateKey::generate("ecdsa").unwrap().unwrap().pem();
        let as_rsa = ec.replace("EC PRIVATE KEY", "RSA PRIVATE KEY");
        assert_eq!(
            err(&as_rsa),
            "parsing RSA private key from PEM: x509: failed to parse private key (use \
             ParseECPrivateKey instead for this key format)"
        );
    }
}
