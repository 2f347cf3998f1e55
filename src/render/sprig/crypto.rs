//! Sprig's cryptographic functions: RSA keys and X.509 certificates as Sprig makes them
//! (`genCA`, `genSelfSignedCert`, `genSignedCert` and their `WithKey` forms, `buildCustomCert`,
//! `genPrivateKey`), `htpasswd`, `encryptAES`/`decryptAES` and `derivePassword`. RSA keys and
//! serial numbers come from the render's generator, so a seeded render repeats them.

use std::net::IpAddr;
use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyUsagePurpose, SanType, SerialNumber,
};

use super::keys::{self, PrivateKey};
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

/// A key and its PEM as Sprig writes it; generating one charges the budget (key generation is
/// the costliest thing a template can ask for; its time is bounded by the clock readings around
/// costly functions).
fn generated(exec: &Exec<'_>, bits: usize) -> Result<PrivateKey, FuncError> {
    exec.budget.charge(bits as u64 * 64)?;
    PrivateKey::rsa(bits).map_err(error)
}

/// A template's key: Sprig's "parsing private key: ..." when it does not read.
fn given(pem: &str) -> Result<PrivateKey, FuncError> {
    keys::parse_pem(pem).map_err(|e| error(format!("parsing private key: {e}")))
}

/// Go's `x509.CreateCertificate` as Sprig reports it.
fn creating(e: impl std::fmt::Display) -> FuncError {
    error(format!("error creating certificate: {e}"))
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

fn gen_ca(cn: &str, days: i64, key: PrivateKey) -> FuncResult {
    let mut params = base_params(cn, Vec::new(), days)?;
    params.key_usages.push(KeyUsagePurpose::KeyCertSign);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let pair = key.signing_pair().map_err(creating)?;
    let cert = params.self_signed(&pair).map_err(creating)?;
    Ok(certificate(cert.pem(), key.pem()))
}

fn gen_self_signed(exec: &Exec<'_>, args: &[Value], key: PrivateKey) -> FuncResult {
    let params = base_params(
        arg_str(args, 0),
        sans(&args[1], &args[2], exec.budget)?,
        arg_int(args, 3),
    )?;
    let pair = key.signing_pair().map_err(creating)?;
    let cert = params.self_signed(&pair).map_err(creating)?;
    Ok(certificate(cert.pem(), key.pem()))
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

/// The DER of the first PEM block of a certificate text, checked as Go's
/// `x509.ParseCertificate` would (`what` names the bytes in Sprig's message).
fn certificate_der(text: &str, what: &str) -> Result<Vec<u8>, FuncError> {
    let block = pem::parse(text).map_err(|_| error("unable to decode certificate"))?;
    let der = block.into_contents();
    x509_parser::parse_x509_certificate(&der).map_err(|_| {
        error(format!(
            "error parsing certificate: {what}: x509: malformed certificate"
        ))
    })?;
    Ok(der)
}

fn gen_signed(exec: &Exec<'_>, args: &[Value], key: PrivateKey) -> FuncResult {
    let (ca_cert, ca_key) = ca_of(&args[4])?;
    let ca_der = certificate_der(&ca_cert, "decodedSignerCert.Bytes")?;
    let ca_key =
        keys::parse_pem(&ca_key).map_err(|e| error(format!("error parsing private key: {e}")))?;
    let params = base_params(
        arg_str(args, 0),
        sans(&args[1], &args[2], exec.budget)?,
        arg_int(args, 3),
    )?;
    let ca_pair = ca_key.signing_pair().map_err(creating)?;
    key.check_public().map_err(creating)?;
    let pair = key.signing_pair().map_err(creating)?;
    let issuer = Issuer::from_ca_cert_der(&ca_der.as_slice().into(), ca_pair).map_err(creating)?;
    let cert = params.signed_by(&pair, &issuer).map_err(creating)?;
    Ok(certificate(cert.pem(), key.pem()))
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

/// Sprig's `genPrivateKey`: failures are its text, not errors.
fn gen_private_key(exec: &Exec<'_>, kind: &str) -> FuncResult {
    // RSA-4096 and DSA parameter generation are the dearest kinds.
    exec.budget.charge(4096 * 64)?;
    Ok(Value::string(match PrivateKey::generate(kind) {
        None => format!("Unknown type {kind}"),
        Some(Ok(key)) => key.pem(),
        Some(Err(e)) => format!("failed to generate private key: {e}"),
    }))
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
        let key = generated(exec, 2048)?;
        gen_ca(arg_str(&args, 0), arg_int(&args, 1), key)
    });
    map.add("genCAWithKey", &[S, I, S], |_, args| {
        gen_ca(
            arg_str(&args, 0),
            arg_int(&args, 1),
            given(arg_str(&args, 2))?,
        )
    });
    map.add("genSelfSignedCert", &[S, L, L, I], |exec, args| {
        let key = generated(exec, 2048)?;
        gen_self_signed(exec, &args, key)
    });
    map.add(
        "genSelfSignedCertWithKey",
        &[S, L, L, I, S],
        |exec, args| {
            let key = given(arg_str(&args, 4))?;
            gen_self_signed(exec, &args, key)
        },
    );
    map.add("genSignedCert", &[S, L, L, I, CERTIFICATE], |exec, args| {
        let key = generated(exec, 2048)?;
        gen_signed(exec, &args, key)
    });
    map.add(
        "genSignedCertWithKey",
        &[S, L, L, I, CERTIFICATE, S],
        |exec, args| {
            let key = given(arg_str(&args, 5))?;
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
        certificate_der(&cert, "decodedCert.Bytes")?;
        keys::parse_pem(&key).map_err(|e| error(format!("error parsing private key: {e}")))?;
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
