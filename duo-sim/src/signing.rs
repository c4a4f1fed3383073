//! Duo request signing (duo-api.md §2): canonical strings for v2, v4 and v5 and the
//! HMAC that the `Authorization` header carries. Public so that tests (and anyone
//! hand-crafting requests) sign exactly as the reference clients do.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha512};

/// SHA-512 of the empty string: the body/header hash line of a v4/v5 request without them.
pub const EMPTY_SHA512: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest2 {
    Sha1,
    Sha512,
}

/// Percent-encodes every byte outside RFC 3986's unreserved set, upper-case hex
/// (Python's `urllib.parse.quote(s, safe='~')`).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(
                char::from_digit(u32::from(b >> 4), 16)
                    .unwrap_or('0')
                    .to_ascii_uppercase(),
            );
            out.push(
                char::from_digit(u32::from(b & 15), 16)
                    .unwrap_or('0')
                    .to_ascii_uppercase(),
            );
        }
    }
    out
}

/// Sorted by encoded key, then encoded value; repeated keys yield one pair per value.
pub fn canon_params<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (quote(k.as_ref()), quote(v.as_ref())))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn sha512_hex(data: &[u8]) -> String {
    hex::encode(Sha512::digest(data))
}

/// Hash of the `X-Duo-*` headers for v5: lower-cased names sorted, NUL-joined with values.
/// `None` when a name repeats or contains NUL, which the reference client refuses to sign.
pub fn canon_x_duo_headers<K: AsRef<str>, V: AsRef<str>>(headers: &[(K, V)]) -> Option<String> {
    let mut lowered: Vec<(String, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.as_ref()))
        .collect();
    lowered.sort_by(|a, b| a.0.cmp(&b.0));
    if lowered.windows(2).any(|w| w[0].0 == w[1].0)
        || lowered
            .iter()
            .any(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return None;
    }
    let parts: Vec<&str> = lowered.iter().flat_map(|(k, v)| [k.as_str(), *v]).collect();
    Some(sha512_hex(parts.join("\0").as_bytes()))
}

pub fn canonical_v2<K: AsRef<str>, V: AsRef<str>>(
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(K, V)],
) -> String {
    [
        date,
        &method.to_ascii_uppercase(),
        &host.to_ascii_lowercase(),
        path,
        &canon_params(params),
    ]
    .join("\n")
}

pub fn canonical_v4<K: AsRef<str>, V: AsRef<str>>(
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(K, V)],
    body: &[u8],
) -> String {
    format!(
        "{}\n{}",
        canonical_v2(date, method, host, path, params),
        sha512_hex(body)
    )
}

pub fn canonical_v5<K: AsRef<str>, V: AsRef<str>>(
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(K, V)],
    body: &[u8],
    x_duo_headers_hash: &str,
) -> String {
    format!(
        "{}\n{}",
        canonical_v4(date, method, host, path, params, body),
        x_duo_headers_hash
    )
}

pub fn hmac_hex(digest: Digest2, skey: &str, canonical: &str) -> String {
    match digest {
        Digest2::Sha1 => {
            let mut mac = Hmac::<Sha1>::new_from_slice(skey.as_bytes()).expect("any key length");
            mac.update(canonical.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Digest2::Sha512 => {
            let mut mac = Hmac::<Sha512>::new_from_slice(skey.as_bytes()).expect("any key length");
            mac.update(canonical.as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
    }
}

/// Constant-time check of a hex signature against the canonical string.
pub fn verify_hex(digest: Digest2, skey: &str, canonical: &str, sig_hex: &str) -> bool {
    let Ok(sig) = hex::decode(sig_hex) else {
        return false;
    };
    match digest {
        Digest2::Sha1 => {
            let mut mac = Hmac::<Sha1>::new_from_slice(skey.as_bytes()).expect("any key length");
            mac.update(canonical.as_bytes());
            mac.verify_slice(&sig).is_ok()
        }
        Digest2::Sha512 => {
            let mut mac = Hmac::<Sha512>::new_from_slice(skey.as_bytes()).expect("any key length");
            mac.update(canonical.as_bytes());
            mac.verify_slice(&sig).is_ok()
        }
    }
}

/// `Basic base64(ikey:hex)`.
pub fn authorization(ikey: &str, sig_hex: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ikey}:{sig_hex}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SKEY: &str = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";

    #[test]
    fn vector_a_printable_ascii() {
        let params = [
            ("digits", "0123456789"),
            (
                "letters",
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            ),
            ("punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
            ("whitespace", "\t\n\x0b\x0c\r "),
        ];
        assert_eq!(
            canon_params(&params),
            "digits=0123456789&letters=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ&punctuation=%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~&whitespace=%09%0A%0B%0C%0D%20"
        );
        assert_eq!(
            canon_params(&[("realname", "First Last"), ("username", "root")]),
            "realname=First%20Last&username=root"
        );
        assert_eq!(
            canon_params(&[("foo_bar", "2"), ("foo", "1")]),
            "foo=1&foo_bar=2"
        );
        assert_eq!(
            canon_params(&[
                ("username", "H ell?o"),
                ("password", "H-._~i"),
                ("password", "A(!'*)")
            ]),
            "password=A%28%21%27%2A%29&password=H-._~i&username=H%20ell%3Fo"
        );
    }

    fn vector_b_params() -> Vec<(String, String)> {
        [
            (
                "\u{469a}\u{287b}\u{35d0}\u{8ef3}\u{6727}\u{502a}\u{0810}\u{d091}\u{c8}\u{c170}",
                "\u{0f45}\u{1a76}\u{341a}\u{654c}\u{c23f}\u{9b09}\u{abe2}\u{8343}\u{1b27}\u{60d0}",
            ),
            (
                "\u{7449}\u{7e4b}\u{ccfb}\u{59ff}\u{fe5f}\u{83b7}\u{adcc}\u{900c}\u{cfd1}\u{7813}",
                "\u{8db7}\u{5022}\u{92d3}\u{42ef}\u{207d}\u{8730}\u{acfe}\u{5617}\u{0946}\u{4e30}",
            ),
            (
                "\u{7470}\u{9314}\u{901c}\u{9eae}\u{40d8}\u{4201}\u{82d8}\u{8c70}\u{1d31}\u{a042}",
                "\u{17d9}\u{0ba8}\u{9358}\u{aadf}\u{a42a}\u{48be}\u{fb96}\u{6fe9}\u{b7ff}\u{32f3}",
            ),
            (
                "\u{c2c5}\u{2c1d}\u{2620}\u{3617}\u{96b3}F\u{8605}\u{20e8}\u{ac21}\u{5934}",
                "\u{fba9}\u{41aa}\u{bd83}\u{840b}\u{2615}\u{3e6e}\u{652d}\u{a8b5}\u{d56b}U",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn vector_b_v2_unicode() {
        let canonical = canonical_v2(
            "Fri, 07 Dec 2012 17:18:00 -0000",
            "PoSt",
            "foO.BAr52.cOm",
            "/Foo/BaR2/qux",
            &vector_b_params(),
        );
        assert_eq!(
            canonical,
            "Fri, 07 Dec 2012 17:18:00 -0000\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n%E4%9A%9A%E2%A1%BB%E3%97%90%E8%BB%B3%E6%9C%A7%E5%80%AA%E0%A0%90%ED%82%91%C3%88%EC%85%B0=%E0%BD%85%E1%A9%B6%E3%90%9A%E6%95%8C%EC%88%BF%E9%AC%89%EA%AF%A2%E8%8D%83%E1%AC%A7%E6%83%90&%E7%91%89%E7%B9%8B%EC%B3%BB%E5%A7%BF%EF%B9%9F%E8%8E%B7%EA%B7%8C%E9%80%8C%EC%BF%91%E7%A0%93=%E8%B6%B7%E5%80%A2%E9%8B%93%E4%8B%AF%E2%81%BD%E8%9C%B0%EA%B3%BE%E5%98%97%E0%A5%86%E4%B8%B0&%E7%91%B0%E9%8C%94%E9%80%9C%E9%BA%AE%E4%83%98%E4%88%81%E8%8B%98%E8%B1%B0%E1%B4%B1%EA%81%82=%E1%9F%99%E0%AE%A8%E9%8D%98%EA%AB%9F%EA%90%AA%E4%A2%BE%EF%AE%96%E6%BF%A9%EB%9F%BF%E3%8B%B3&%EC%8B%85%E2%B0%9D%E2%98%A0%E3%98%97%E9%9A%B3F%E8%98%85%E2%83%A8%EA%B0%A1%E5%A4%B4=%EF%AE%A9%E4%86%AA%EB%B6%83%E8%90%8B%E2%98%95%E3%B9%AE%E6%94%AD%EA%A2%B5%ED%95%ABU"
        );
        let sha1 = hmac_hex(Digest2::Sha1, SKEY, &canonical);
        assert_eq!(sha1, "f01811cbbf9561623ab45b893096267fd46a5178");
        assert_eq!(
            authorization("test_ikey", &sha1),
            "Basic dGVzdF9pa2V5OmYwMTgxMWNiYmY5NTYxNjIzYWI0NWI4OTMwOTYyNjdmZDQ2YTUxNzg="
        );
        assert_eq!(
            hmac_hex(Digest2::Sha512, SKEY, &canonical),
            "0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698"
        );
        assert!(verify_hex(Digest2::Sha1, SKEY, &canonical, &sha1));
        assert!(!verify_hex(Digest2::Sha1, "x", &canonical, &sha1));
    }

    #[test]
    fn vector_c_v5_json_and_headers() {
        let body = br#"{"alpha":["a","b","c","d"],"data":"abc123","info":{"another":2,"test":1}}"#;
        assert_eq!(
            sha512_hex(body),
            "c30ca4ffc7fe4272aa6ae7a3c94cf71c11ed8ae7aaa32e81a401a59f1cef0866ccb02304380cdc48a813b1566c457653fa62736022f0cfeadcec8cd7c6233480"
        );
        let headers = [("X-Duo-Header-1", "header_value_1")];
        let hh = canon_x_duo_headers(&headers).unwrap();
        assert_eq!(
            hh,
            "630b4bfe7e9abd03da2eee8f0a5d4e60a254ec880a839bcc2223bb5b9443e8ef24d58f0254f1f5934bf8c017ebd0fd5b1acf86766bdbe74185e712a4092df3ed"
        );
        let none: [(&str, &str); 0] = [];
        let py = canonical_v5(
            "Tue, 17 Nov 2020 14:12:00",
            "POST",
            "foO.BaR52.cOm",
            "/Foo/BaR2/qux",
            &none,
            body,
            &hh,
        );
        assert_eq!(
            py,
            format!(
                "Tue, 17 Nov 2020 14:12:00\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n\n{}\n{hh}",
                sha512_hex(body)
            )
        );
        let cs = canonical_v5(
            "Fri, 07 Dec 2012 17:18:00 -0000",
            "POST",
            "foO.BaR52.cOm",
            "/Foo/BaR2/qux",
            &none,
            body,
            &hh,
        );
        let sig = hmac_hex(Digest2::Sha512, SKEY, &cs);
        assert_eq!(
            sig,
            "66076610970c23056c8ce0c66ddd2db2d0f10876a825814d92e9ee3dd04189752c88a5be79d20f6d56cacc7a9f16a6b8e695a0028a7f60ed219496ac53ddfac7"
        );
        assert_eq!(
            authorization("test_ikey", &sig),
            "Basic dGVzdF9pa2V5OjY2MDc2NjEwOTcwYzIzMDU2YzhjZTBjNjZkZGQyZGIyZDBmMTA4NzZhODI1ODE0ZDkyZTllZTNkZDA0MTg5NzUyYzg4YTViZTc5ZDIwZjZkNTZjYWNjN2E5ZjE2YTZiOGU2OTVhMDAyOGE3ZjYwZWQyMTk0OTZhYzUzZGRmYWM3"
        );
        assert_eq!(
            canon_x_duo_headers(&[("x-duo-A", "header_value_1"), ("X-Duo-B", "header_value_2")])
                .unwrap(),
            "60be11a30e0756f2ee2afdce1db849b987dcf86c1133394bd7bbbc9877920330c4d78aceacbb377ab8cbd9a8efe6a410fed4047376635ac71226ab46ca10d2b1"
        );
        assert_eq!(canon_x_duo_headers(&none).unwrap(), EMPTY_SHA512);
        assert!(canon_x_duo_headers(&[("X-Duo-A", "1"), ("x-duo-a", "2")]).is_none());
    }

    #[test]
    fn vector_d_docs_example() {
        let ikey = "DIWJ8X6AEYOR5OMC6TQ1";
        let skey = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
        let date = "Tue, 21 Aug 2012 17:29:18 -0000";
        let host = "api-XXXXXXXX.duosecurity.com";
        let path = "/accounts/v1/account/list";
        let params = [("realname", "First Last"), ("username", "root")];
        let canonical = canonical_v2(date, "POST", host, path, &params);
        assert_eq!(
            canonical,
            "Tue, 21 Aug 2012 17:29:18 -0000\nPOST\napi-xxxxxxxx.duosecurity.com\n/accounts/v1/account/list\nrealname=First%20Last&username=root"
        );
        let sig = hmac_hex(Digest2::Sha512, skey, &canonical);
        assert_eq!(
            sig,
            "1bffb8924348f7db7da9e7d7d749ded93aafd02d8e904960da7b96c57510220185a64a2827ee8f24ac5d30802a9ee97e59de44b304b18242f0d596d15a8122af"
        );
        assert_eq!(
            authorization(ikey, &sig),
            "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MWJmZmI4OTI0MzQ4ZjdkYjdkYTllN2Q3ZDc0OWRlZDkzYWFmZDAyZDhlOTA0OTYwZGE3Yjk2YzU3NTEwMjIwMTg1YTY0YTI4MjdlZThmMjRhYzVkMzA4MDJhOWVlOTdlNTlkZTQ0YjMwNGIxODI0MmYwZDU5NmQxNWE4MTIyYWY="
        );
        assert_eq!(
            hmac_hex(Digest2::Sha1, skey, &canonical),
            "2d97d6166319781b5a3a07af39d366f491234edc"
        );
        let none: [(&str, &str); 0] = [];
        let v5 = canonical_v5(
            date,
            "POST",
            host,
            path,
            &[("realname", "First Last")],
            br#"{"txid":"f22b1678-252a-4070-b176-0ca2be7319fd"}"#,
            &canon_x_duo_headers(&none).unwrap(),
        );
        assert_eq!(
            hmac_hex(Digest2::Sha512, skey, &v5),
            "78f4327f831173cc78d0907e913e3c5a28fe72dd4545a342586bb67181f2ba393d20911e870362f6faba3dc6f7e9db5e93aed2f3bfc110c6dadaff4dc6179e0b"
        );
    }
}
