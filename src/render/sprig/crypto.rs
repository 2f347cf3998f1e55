//! Sprig's cryptographic functions: RSA keys and X.509 certificates as Sprig makes them
//! (`genCA`, `genSelfSignedCert`, `genSignedCert` and their `WithKey` forms, `buildCustomCert`,
//! `genPrivateKey`), `htpasswd`, `encryptAES`/`decryptAES` and `derivePassword`. RSA keys and
//! serial numbers come from the render's generator, so a seeded render repeats them.

use std::net::IpAddr;
use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{EncodePrivateKey, LineEnding};

use super::random::{now, with_rng};
use super::{I, L, S, arg_int, arg_str};
use crate::render::gotemplate::funcs::{FuncError, FuncMap, FuncResult, error};
use crate::render::gotemplate::value::{Object, Value};
use crate::render::gotemplate::{Budget, Exec};

/// Sprig's `certificate{Cert, Key}`.
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }
    fn kind_name(&self) -> &'static str {
        "struct"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn format(&self, out: &mut String) {
        out.push('{');
        out.push_str(&self.cert);
        out.push(' ');
        out.push_str(&self.key);
        out.push('}');
    }
    fn data(&self) -> Option<Value> {
        Some(Value::map(
            [
                ("Cert".into(), Value::str(&self.cert)),
                ("Key".into(), Value::str(&self.key)),
            ]
            .into_iter()
            .collect(),
        ))
    }
}

fn certificate(cert: String, key: String) -> Value {
    Value::Object(Rc::new(Certificate { cert, key }))
}

fn failed(e: impl std::fmt::Display) -> FuncError {
    error(e.to_string())
}

/// An RSA key from the render's generator, as PKCS#1 PEM (what Sprig prints) and as rcgen's
/// signing key.
fn rsa_key(exec: &Exec<'_>, bits: usize) -> Result<(String, KeyPair), FuncError> {
    // Key generation is the costliest thing a template can ask for: charge it (its time is
    // bounded by the clock readings around costly functions).
    exec.budget.charge(bits as u64 * 64)?;
    let key = with_rng(|rng| rsa::RsaPrivateKey::new(rng, bits)).map_err(failed)?;
    signing_pair(&key)
}

fn signing_pair(key: &rsa::RsaPrivateKey) -> Result<(String, KeyPair), FuncError> {
    let pkcs1 = key
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(failed)?
        .to_string();
    let pkcs8 = key.to_pkcs8_pem(LineEnding::LF).map_err(failed)?;
    let pair =
        KeyPair::from_pkcs8_pem_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).map_err(failed)?;
    Ok((pkcs1, pair))
}

/// A private key given by the template (PKCS#1 RSA, as Sprig writes them, or PKCS#8).
fn parse_key(pem: &str) -> Result<(String, KeyPair), FuncError> {
    if let Ok(key) = rsa::RsaPrivateKey::from_pkcs1_pem(pem) {
        return signing_pair(&key);
    }
    let pair =
        KeyPair::from_pem(pem).map_err(|e| error(format!("error parsing private key: {e}")))?;
    Ok((pem.to_owned(), pair))
}

fn serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    with_rng(|rng| rand_core::RngCore::fill_bytes(rng, &mut bytes));
    bytes[0] &= 0x7f;
    SerialNumber::from_slice(&bytes)
}

fn sans(ips: &Value, dns: &Value, budget: &Budget) -> Result<Vec<SanType>, FuncError> {
    let mut out = Vec::new();
    if let Value::List(list) = ips {
        for ip in &list.items {
            let text = super::strval(ip, budget)?;
            let ip: IpAddr = text
                .parse()
                .map_err(|_| error(format!("error parsing ip: {text}")))?;
            out.push(SanType::IpAddress(ip));
        }
    }
    if let Value::List(list) = dns {
        for name in &list.items {
            budget.tick()?;
            let text = super::strval(name, budget)?.into_owned();
            out.push(SanType::DnsName(text.try_into().map_err(failed)?));
        }
    }
    Ok(out)
}

/// A certificate time, or Go's error for one ASN.1 cannot hold.
fn asn1_time(t: crate::render::gotime::GoTime) -> Result<time::OffsetDateTime, FuncError> {
    time::OffsetDateTime::from_unix_timestamp(t.unix())
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .ok_or_else(|| error("asn1: structure error: cannot represent time as GeneralizedTime"))
}

/// Sprig's `getBaseCertTemplate`: valid from now for `days` days (Go's duration arithmetic:
/// the product wraps, the sum saturates).
fn base_params(cn: &str, sans: Vec<SanType>, days: i64) -> Result<CertificateParams, FuncError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.subject_alt_names = sans;
    params.serial_number = Some(serial());
    let start = now();
    params.not_before = asn1_time(start)?;
    params.not_after = asn1_time(start.add_nanos(days.wrapping_mul(24 * 3_600_000_000_000)))?;
    params.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    Ok(params)
}

fn gen_ca(cn: &str, days: i64, key: (String, KeyPair)) -> FuncResult {
    let mut params = base_params(cn, Vec::new(), days)?;
    params.key_usages.push(KeyUsagePurpose::KeyCertSign);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key.1).map_err(failed)?;
    Ok(certificate(cert.pem(), key.0))
}

fn gen_self_signed(exec: &Exec<'_>, args: &[Value], key: (String, KeyPair)) -> FuncResult {
    let params = base_params(
        arg_str(args, 0),
        sans(&args[1], &args[2], exec.budget)?,
        arg_int(args, 3),
    )?;
    let cert = params.self_signed(&key.1).map_err(failed)?;
    Ok(certificate(cert.pem(), key.0))
}

fn ca_of(value: &Value) -> Result<(String, String), FuncError> {
    match value {
        Value::Object(object) if object.type_name() == "sprig.certificate" => {
            let field = |name| match object.field(name) {
                Some(Value::Str(s)) => s.to_string(),
                _ => String::new(),
            };
            Ok((field("Cert"), field("Key")))
        }
        other => Err(error(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            other.type_name()
        ))),
    }
}

fn gen_signed(exec: &Exec<'_>, args: &[Value], key: (String, KeyPair)) -> FuncResult {
    let (ca_cert, ca_key) = ca_of(&args[4])?;
    let (_, ca_pair) = parse_key(&ca_key)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_cert, ca_pair)
        .map_err(|e| error(format!("error parsing ca cert: {e}")))?;
    let params = base_params(
        arg_str(args, 0),
        sans(&args[1], &args[2], exec.budget)?,
        arg_int(args, 3),
    )?;
    let cert = params.signed_by(&key.1, &issuer).map_err(failed)?;
    Ok(certificate(cert.pem(), key.0))
}

/// Sprig's `bcrypt`: Go's `bcrypt.GenerateFromPassword` at its default cost (10, version 2a),
/// its error as text.
fn bcrypt_hash(password: &str) -> String {
    match bcrypt::non_truncating_hash_with_result(password, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(bcrypt::BcryptError::Truncation(_)) => {
            "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
                .to_owned()
        }
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// Sprig's `htpasswd`: `user:` and the bcrypt hash of the password.
fn htpasswd(user: &str, password: &str) -> String {
    if user.contains(':') {
        return format!("invalid username: {user}");
    }
    format!("{user}:{}", bcrypt_hash(password))
}

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// Sprig's `encryptAES`: AES-256-CBC with the key padded from the password, a random IV in
/// front, PKCS#7 padding, base64.
fn encrypt_aes(password: &str, plain: &str) -> String {
    use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
    let mut key = [0u8; 32];
    let bytes = password.as_bytes();
    key[..bytes.len().min(32)].copy_from_slice(&bytes[..bytes.len().min(32)]);
    let mut iv = [0u8; 16];
    with_rng(|rng| rand_core::RngCore::fill_bytes(rng, &mut iv));
    let cipher = Aes256CbcEnc::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<Pkcs7>(plain.as_bytes());
    let mut out = iv.to_vec();
    out.extend(cipher);
    BASE64.encode(out)
}

/// Sprig's `decryptAES`: the IV in front, AES-256-CBC, and the padding cut by the last byte's
/// value without checking it; what Go panics on is its runtime error.
fn decrypt_aes(password: &str, crypt: &str) -> Result<String, String> {
    use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
    let data = crate::render::golang::base64_decode(crypt)?;
    if data.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        ));
    }
    if data.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".to_owned());
    }
    let mut key = [0u8; 32];
    let bytes = password.as_bytes();
    key[..bytes.len().min(32)].copy_from_slice(&bytes[..bytes.len().min(32)]);
    let (iv, body) = data.split_at(16);
    let iv: [u8; 16] = iv.try_into().map_err(|_| "bad iv".to_owned())?;
    let plain = Aes256CbcDec::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<NoPadding>(body)
        .map_err(|e| e.to_string())?;
    let Some(&last) = plain.last() else {
        return Err("runtime error: index out of range [-1]".to_owned());
    };
    let keep = plain.len() as i64 - i64::from(last);
    if keep < 0 {
        return Err(format!(
            "runtime error: slice bounds out of range [:{keep}]"
        ));
    }
    Ok(String::from_utf8_lossy(&plain[..keep as usize]).into_owned())
}

/// Sprig's `derivePassword` (the Master Password algorithm, v3).
fn derive_password(counter: i64, kind: &str, password: &str, user: &str, site: &str) -> String {
    const TEMPLATES: &[(&str, &[&str])] = &[
        ("maximum", &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"]),
        (
            "long",
            &[
                "CvcvnoCvcvCvcv",
                "CvcvCvcvnoCvcv",
                "CvcvCvcvCvcvno",
                "CvccnoCvcvCvcv",
                "CvccCvcvnoCvcv",
                "CvccCvcvCvcvno",
                "CvcvnoCvccCvcv",
                "CvcvCvccnoCvcv",
                "CvcvCvccCvcvno",
                "CvcvnoCvcvCvcc",
                "CvcvCvcvnoCvcc",
                "CvcvCvcvCvccno",
                "CvccnoCvccCvcv",
                "CvccCvccnoCvcv",
                "CvccCvccCvcvno",
                "CvcvnoCvccCvcc",
                "CvcvCvccnoCvcc",
                "CvcvCvccCvccno",
                "CvccnoCvcvCvcc",
                "CvccCvcvnoCvcc",
                "CvccCvcvCvccno",
            ],
        ),
        ("medium", &["CvcnoCvc", "CvcCvcno"]),
        ("short", &["Cvcn"]),
        ("basic", &["aaanaaan", "aannaaan", "aaannaaa"]),
        ("pin", &["nnnn"]),
    ];
    let classes = |c: char| -> &'static str {
        match c {
            'V' => "AEIOU",
            'C' => "BCDFGHJKLMNPQRSTVWXYZ",
            'v' => "aeiou",
            'c' => "bcdfghjklmnpqrstvwxyz",
            'A' => "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
            'a' => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
            'n' => "0123456789",
            'o' => "@&%?,=[]_:-+*$#!'^~;()/.",
            'x' => "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
            _ => "",
        }
    };
    let Some((_, templates)) = TEMPLATES.iter().find(|(name, _)| *name == kind) else {
        return format!("cannot find password template {kind}");
    };
    let scope = "com.lyndir.masterpassword";
    let mut salt = scope.as_bytes().to_vec();
    salt.extend((user.len() as u32).to_be_bytes());
    salt.extend(user.as_bytes());
    let mut key = [0u8; 64];
    let params = match scrypt::Params::new(15, 8, 2, 64) {
        Ok(params) => params,
        Err(e) => return e.to_string(),
    };
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return e.to_string();
    }
    let mut seed_input = scope.as_bytes().to_vec();
    seed_input.extend((site.len() as u32).to_be_bytes());
    seed_input.extend(site.as_bytes());
    seed_input.extend((counter as u32).to_be_bytes());
    use hmac_sha256::hmac;
    let seed = hmac(&key, &seed_input);
    let template = templates[seed[0] as usize % templates.len()];
    template
        .chars()
        .enumerate()
        .map(|(i, class)| {
            let chars: Vec<char> = classes(class).chars().collect();
            chars[seed[i + 1] as usize % chars.len()]
        })
        .collect()
}

mod hmac_sha256 {
    use sha2::{Digest, Sha256};

    /// HMAC-SHA256.
    pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sha256::new();
        inner.update(block.map(|b| b ^ 0x36));
        inner.update(message);
        let inner = inner.finalize();
        let mut outer = Sha256::new();
        outer.update(block.map(|b| b ^ 0x5c));
        outer.update(inner);
        outer.finalize().into()
    }
}

fn gen_private_key(exec: &Exec<'_>, kind: &str) -> FuncResult {
    let pem = match kind {
        "rsa" => rsa_key(exec, 4096)?.0,
        "ecdsa" => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(failed)?
            .serialize_pem(),
        "ed25519" => KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map_err(failed)?
            .serialize_pem(),
        _ => return Ok(Value::str("Unknown type")),
    };
    Ok(Value::string(pem))
}

/// What `derivePassword`'s scrypt (N = 2^15, r = 8, p = 2, run one lane at a time) holds while it
/// runs: its table of 128·r·N bytes, the lanes' blocks (128·r·p) and its scratch (256·r).
const SCRYPT_WORKING_SET: u64 = 128 * 8 * (1 << 15) + 128 * 8 * 2 + 256 * 8;

/// A parameter of Sprig's certificate type (what `genCA` returns).
const CERTIFICATE: crate::render::gotemplate::Ty =
    crate::render::gotemplate::Ty::Named("sprig.certificate");

/// Functions one call of which may take long: the clock is read before and after each.
const COSTLY: &[&str] = &[
    "genPrivateKey",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "buildCustomCert",
    "bcrypt",
    "htpasswd",
    "derivePassword",
];

pub fn register(map: &mut FuncMap) {
    register_functions(map);
    map.mark_costly(COSTLY);
}

fn register_functions(map: &mut FuncMap) {
    map.add("genPrivateKey", &[S], |exec, args| {
        gen_private_key(exec, arg_str(&args, 0))
    });
    map.add("genCA", &[S, I], |exec, args| {
        let key = rsa_key(exec, 2048)?;
        gen_ca(arg_str(&args, 0), arg_int(&args, 1), key)
    });
    map.add("genCAWithKey", &[S, I, S], |_, args| {
        gen_ca(
            arg_str(&args, 0),
            arg_int(&args, 1),
            parse_key(arg_str(&args, 2))?,
        )
    });
    map.add("genSelfSignedCert", &[S, L, L, I], |exec, args| {
        let key = rsa_key(exec, 2048)?;
        gen_self_signed(exec, &args, key)
    });
    map.add(
        "genSelfSignedCertWithKey",
        &[S, L, L, I, S],
        |exec, args| {
            let key = parse_key(arg_str(&args, 4))?;
            gen_self_signed(exec, &args, key)
        },
    );
    map.add("genSignedCert", &[S, L, L, I, CERTIFICATE], |exec, args| {
        let key = rsa_key(exec, 2048)?;
        gen_signed(exec, &args, key)
    });
    map.add(
        "genSignedCertWithKey",
        &[S, L, L, I, CERTIFICATE, S],
        |exec, args| {
            let key = parse_key(arg_str(&args, 5))?;
            gen_signed(exec, &args, key)
        },
    );
    map.add("buildCustomCert", &[S, S], |_, args| {
        let decode = |i: usize, what: &str| {
            crate::render::golang::base64_decode(arg_str(&args, i))
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|_| error(format!("unable to decode base64 {what}")))
        };
        let (cert, key) = (decode(0, "certificate")?, decode(1, "private key")?);
        if !cert.contains("-----BEGIN CERTIFICATE-----") {
            return Err(error("unable to decode certificate"));
        }
        parse_key(&key)?;
        Ok(certificate(cert, key))
    });
    map.add("bcrypt", &[S], |exec, args| {
        exec.budget.charge(64)?;
        Ok(Value::string(bcrypt_hash(arg_str(&args, 0))))
    });
    map.add("htpasswd", &[S, S], |exec, args| {
        exec.budget.charge(1 << 16)?;
        Ok(Value::string(htpasswd(
            arg_str(&args, 0),
            arg_str(&args, 1),
        )))
    });
    map.add("encryptAES", &[S, S], |exec, args| {
        exec.budget
            .charge(arg_str(&args, 1).len() as u64 * 2 + 64)?;
        Ok(Value::string(encrypt_aes(
            arg_str(&args, 0),
            arg_str(&args, 1),
        )))
    });
    map.add("decryptAES", &[S, S], |exec, args| {
        exec.budget.charge(arg_str(&args, 1).len() as u64 + 64)?;
        decrypt_aes(arg_str(&args, 0), arg_str(&args, 1))
            .map(Value::string)
            .map_err(error)
    });
    // Sprig declares the counter uint32; an int is what templates pass. scrypt's table is a
    // working set freed on return; the result is a few bytes.
    map.add("derivePassword", &[I, S, S, S, S], |exec, args| {
        exec.budget.working_set(SCRYPT_WORKING_SET)?;
        exec.budget.charge(64)?;
        let counter = arg_int(&args, 0);
        Ok(Value::string(derive_password(
            counter,
            arg_str(&args, 1),
            arg_str(&args, 2),
            arg_str(&args, 3),
            arg_str(&args, 4),
        )))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_round_trips_and_passwords_derive() {
        let sealed = encrypt_aes("secret", "hello");
        assert_eq!(decrypt_aes("secret", &sealed).unwrap(), "hello");
        assert!(htpasswd("user", "pw").starts_with("user:$2"));
    }
}
