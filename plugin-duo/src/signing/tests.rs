//! Every vector of duo-api.md §2.6, byte for byte.

use super::*;
use crate::fakes::KeySigner;

const SKEY: &str = "gtdfxv9YgVBYcF6dl2Eq17KUQJN2PLM2ODVTkvoT";

fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn vector_a_printable_ascii() {
    let params = p(&[
        ("digits", "0123456789"),
        (
            "letters",
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ),
        ("punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
        ("whitespace", "\t\n\x0b\x0c\r "),
    ]);
    assert_eq!(
        canon_params(&params),
        "digits=0123456789&letters=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ&punctuation=%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~&whitespace=%09%0A%0B%0C%0D%20"
    );
}

#[test]
fn vector_a_small_cases() {
    assert_eq!(
        canon_params(&p(&[("realname", "First Last"), ("username", "root")])),
        "realname=First%20Last&username=root"
    );
    assert_eq!(
        canon_params(&p(&[("foo_bar", "2"), ("foo", "1")])),
        "foo=1&foo_bar=2"
    );
    assert_eq!(
        canon_params(&p(&[
            ("username", "H ell?o"),
            ("password", "H-._~i"),
            ("password", "A(!'*)")
        ])),
        "password=A%28%21%27%2A%29&password=H-._~i&username=H%20ell%3Fo"
    );
    assert_eq!(canon_params(&[]), "");
}

fn vector_b_input() -> Vec<(String, String)> {
    p(&[
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
    ])
}

const VECTOR_B_CANONICAL: &str = "Fri, 07 Dec 2012 17:18:00 -0000\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n%E4%9A%9A%E2%A1%BB%E3%97%90%E8%BB%B3%E6%9C%A7%E5%80%AA%E0%A0%90%ED%82%91%C3%88%EC%85%B0=%E0%BD%85%E1%A9%B6%E3%90%9A%E6%95%8C%EC%88%BF%E9%AC%89%EA%AF%A2%E8%8D%83%E1%AC%A7%E6%83%90&%E7%91%89%E7%B9%8B%EC%B3%BB%E5%A7%BF%EF%B9%9F%E8%8E%B7%EA%B7%8C%E9%80%8C%EC%BF%91%E7%A0%93=%E8%B6%B7%E5%80%A2%E9%8B%93%E4%8B%AF%E2%81%BD%E8%9C%B0%EA%B3%BE%E5%98%97%E0%A5%86%E4%B8%B0&%E7%91%B0%E9%8C%94%E9%80%9C%E9%BA%AE%E4%83%98%E4%88%81%E8%8B%98%E8%B1%B0%E1%B4%B1%EA%81%82=%E1%9F%99%E0%AE%A8%E9%8D%98%EA%AB%9F%EA%90%AA%E4%A2%BE%EF%AE%96%E6%BF%A9%EB%9F%BF%E3%8B%B3&%EC%8B%85%E2%B0%9D%E2%98%A0%E3%98%97%E9%9A%B3F%E8%98%85%E2%83%A8%EA%B0%A1%E5%A4%B4=%EF%AE%A9%E4%86%AA%EB%B6%83%E8%90%8B%E2%98%95%E3%B9%AE%E6%94%AD%EA%A2%B5%ED%95%ABU";

#[test]
fn vector_b_v2_canonical_and_signatures() {
    let params = canon_params(&vector_b_input());
    let input = CanonInput {
        date: "Fri, 07 Dec 2012 17:18:00 -0000",
        method: "PoSt",
        host: "foO.BAr52.cOm",
        path: "/Foo/BaR2/qux",
        params: &params,
    };
    let canonical = canonical_v2(&input);
    assert_eq!(canonical, VECTOR_B_CANONICAL);
    let signer = KeySigner::new(SKEY);
    let sha1 = signature_hex(SigVersion::V2Sha1, &signer, &canonical);
    assert_eq!(sha1, "f01811cbbf9561623ab45b893096267fd46a5178");
    assert_eq!(
        basic_authorization("test_ikey", &sha1),
        "Basic dGVzdF9pa2V5OmYwMTgxMWNiYmY5NTYxNjIzYWI0NWI4OTMwOTYyNjdmZDQ2YTUxNzg="
    );
    assert_eq!(
        signature_hex(SigVersion::V2Sha512, &signer, &canonical),
        "0508065035a03b2a1de2f453e629e791d180329e157f65df6b3e0f08299d4321e1c5c7a7c7ee6b9e5fc80d1fb6fbf3ad5eb7c44dd3b3985a02c37aca53ec3698"
    );
}

const C_BODY: &str = r#"{"alpha":["a","b","c","d"],"data":"abc123","info":{"another":2,"test":1}}"#;
const C_BODY_HASH: &str = "c30ca4ffc7fe4272aa6ae7a3c94cf71c11ed8ae7aaa32e81a401a59f1cef0866ccb02304380cdc48a813b1566c457653fa62736022f0cfeadcec8cd7c6233480";
const C_HEADER_HASH: &str = "630b4bfe7e9abd03da2eee8f0a5d4e60a254ec880a839bcc2223bb5b9443e8ef24d58f0254f1f5934bf8c017ebd0fd5b1acf86766bdbe74185e712a4092df3ed";

#[test]
fn vector_c_v5_hashes_and_canonical() {
    assert_eq!(sha512_hex(C_BODY.as_bytes()), C_BODY_HASH);
    let headers = p(&[("X-Duo-Header-1", "header_value_1")]);
    assert_eq!(x_duo_header_hash(&headers), C_HEADER_HASH);
    let input = CanonInput {
        date: "Tue, 17 Nov 2020 14:12:00",
        method: "POST",
        host: "foO.BaR52.cOm",
        path: "/Foo/BaR2/qux",
        params: "",
    };
    assert_eq!(
        canonical_v5(&input, C_BODY.as_bytes(), &headers),
        format!(
            "Tue, 17 Nov 2020 14:12:00\nPOST\nfoo.bar52.com\n/Foo/BaR2/qux\n\n{C_BODY_HASH}\n{C_HEADER_HASH}"
        )
    );
}

#[test]
fn vector_c_v5_signature_csharp() {
    let headers = p(&[("X-Duo-Header-1", "header_value_1")]);
    let input = CanonInput {
        date: "Fri, 07 Dec 2012 17:18:00 -0000",
        method: "POST",
        host: "foO.BaR52.cOm",
        path: "/Foo/BaR2/qux",
        params: "",
    };
    let canonical = canonical_v5(&input, C_BODY.as_bytes(), &headers);
    let sig = signature_hex(SigVersion::V5, &KeySigner::new(SKEY), &canonical);
    assert_eq!(
        sig,
        "66076610970c23056c8ce0c66ddd2db2d0f10876a825814d92e9ee3dd04189752c88a5be79d20f6d56cacc7a9f16a6b8e695a0028a7f60ed219496ac53ddfac7"
    );
    assert_eq!(
        basic_authorization("test_ikey", &sig),
        "Basic dGVzdF9pa2V5OjY2MDc2NjEwOTcwYzIzMDU2YzhjZTBjNjZkZGQyZGIyZDBmMTA4NzZhODI1ODE0ZDkyZTllZTNkZDA0MTg5NzUyYzg4YTViZTc5ZDIwZjZkNTZjYWNjN2E5ZjE2YTZiOGU2OTVhMDAyOGE3ZjYwZWQyMTk0OTZhYzUzZGRmYWM3"
    );
}

#[test]
fn vector_c_two_headers_and_empty_hash() {
    let headers = p(&[("x-duo-A", "header_value_1"), ("X-Duo-B", "header_value_2")]);
    assert_eq!(
        x_duo_header_hash(&headers),
        "60be11a30e0756f2ee2afdce1db849b987dcf86c1133394bd7bbbc9877920330c4d78aceacbb377ab8cbd9a8efe6a410fed4047376635ac71226ab46ca10d2b1"
    );
    let empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    assert_eq!(x_duo_header_hash(&[]), empty);
    assert_eq!(sha512_hex(b""), empty);
}

const D_IKEY: &str = "DIWJ8X6AEYOR5OMC6TQ1";
const D_SKEY: &str = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
const D_DATE: &str = "Tue, 21 Aug 2012 17:29:18 -0000";

#[test]
fn vector_d_docs_example_v2() {
    let params = canon_params(&p(&[("realname", "First Last"), ("username", "root")]));
    let input = CanonInput {
        date: D_DATE,
        method: "POST",
        host: "api-XXXXXXXX.duosecurity.com",
        path: "/accounts/v1/account/list",
        params: &params,
    };
    let canonical = canonical_v2(&input);
    assert_eq!(
        canonical,
        "Tue, 21 Aug 2012 17:29:18 -0000\nPOST\napi-xxxxxxxx.duosecurity.com\n/accounts/v1/account/list\nrealname=First%20Last&username=root"
    );
    let signer = KeySigner::new(D_SKEY);
    let sig = signature_hex(SigVersion::V2Sha512, &signer, &canonical);
    assert_eq!(
        sig,
        "1bffb8924348f7db7da9e7d7d749ded93aafd02d8e904960da7b96c57510220185a64a2827ee8f24ac5d30802a9ee97e59de44b304b18242f0d596d15a8122af"
    );
    assert_eq!(
        basic_authorization(D_IKEY, &sig),
        "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6MWJmZmI4OTI0MzQ4ZjdkYjdkYTllN2Q3ZDc0OWRlZDkzYWFmZDAyZDhlOTA0OTYwZGE3Yjk2YzU3NTEwMjIwMTg1YTY0YTI4MjdlZThmMjRhYzVkMzA4MDJhOWVlOTdlNTlkZTQ0YjMwNGIxODI0MmYwZDU5NmQxNWE4MTIyYWY="
    );
    assert_eq!(
        signature_hex(SigVersion::V2Sha1, &signer, &canonical),
        "2d97d6166319781b5a3a07af39d366f491234edc"
    );
    // `sign` produces the same header for a v2 form POST.
    let signed = sign(
        SigVersion::V2Sha512,
        D_IKEY,
        &signer,
        D_DATE,
        &Target {
            method: "POST",
            host: "api-XXXXXXXX.duosecurity.com",
            path: "/accounts/v1/account/list",
            params: &p(&[("username", "root"), ("realname", "First Last")]),
        },
    );
    assert_eq!(signed.body, b"realname=First%20Last&username=root");
    assert!(
        signed
            .headers
            .contains(&("Authorization".into(), basic_authorization(D_IKEY, &sig)))
    );
}

#[test]
fn vector_d_v5_variant() {
    let params = canon_params(&p(&[("realname", "First Last")]));
    let input = CanonInput {
        date: D_DATE,
        method: "POST",
        host: "api-XXXXXXXX.duosecurity.com",
        path: "/accounts/v1/account/list",
        params: &params,
    };
    let canonical = canonical_v5(
        &input,
        br#"{"txid":"f22b1678-252a-4070-b176-0ca2be7319fd"}"#,
        &[],
    );
    assert_eq!(
        signature_hex(SigVersion::V5, &KeySigner::new(D_SKEY), &canonical),
        "78f4327f831173cc78d0907e913e3c5a28fe72dd4545a342586bb67181f2ba393d20911e870362f6faba3dc6f7e9db5e93aed2f3bfc110c6dadaff4dc6179e0b"
    );
}

#[test]
fn v5_post_sends_sorted_json_and_signs_its_bytes() {
    let signer = KeySigner::new(D_SKEY);
    let signed = sign(
        SigVersion::V5,
        D_IKEY,
        &signer,
        D_DATE,
        &Target {
            method: "post",
            host: "api-xxxxxxxx.duosecurity.com",
            path: "/admin/v1/users/DU123",
            params: &p(&[("status", "disabled"), ("notes", "a b")]),
        },
    );
    assert_eq!(signed.body, br#"{"notes":"a b","status":"disabled"}"#);
    assert!(signed.query.is_empty());
    let input = CanonInput {
        date: D_DATE,
        method: "POST",
        host: "api-xxxxxxxx.duosecurity.com",
        path: "/admin/v1/users/DU123",
        params: "",
    };
    let expected = basic_authorization(
        D_IKEY,
        &signature_hex(
            SigVersion::V5,
            &signer,
            &canonical_v5(&input, &signed.body, &[]),
        ),
    );
    assert!(signed.headers.contains(&("Authorization".into(), expected)));
    assert!(
        signed
            .headers
            .contains(&("Content-Type".into(), "application/json".into()))
    );
}

#[test]
fn get_puts_canonical_params_in_the_query() {
    let signed = sign(
        SigVersion::V5,
        D_IKEY,
        &KeySigner::new(D_SKEY),
        D_DATE,
        &Target {
            method: "GET",
            host: "api-xxxxxxxx.duosecurity.com",
            path: "/admin/v1/users",
            params: &p(&[("username", "jane doe+1"), ("limit", "1")]),
        },
    );
    assert_eq!(signed.query, "limit=1&username=jane%20doe%2B1");
    assert!(signed.body.is_empty());
}

mod generated {
    use proptest::prelude::*;

    use super::*;

    fn param_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{1,12}",
            "[ +&=%?#/~._\\-a-zA-Z0-9]{0,12}",
            any::<String>(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Any parameters, Unicode and reserved characters included: the
        /// canonical string is the sorted, percent-encoded pairs, which a
        /// server reading it as a query (Duo's, the simulator's) turns back
        /// into exactly the parameters that were signed.
        #[test]
        fn the_canonical_query_reads_back_as_the_signed_parameters(
            params in prop::collection::vec((param_text(), param_text()), 0..6),
        ) {
            let canon = canon_params(&params);
            prop_assert!(
                canon.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.~%=&".contains(&b)),
                "only unreserved characters, escapes and separators: {}",
                canon
            );
            let mut read: Vec<(String, String)> = form_urlencoded::parse(canon.as_bytes())
                .into_owned()
                .collect();
            let mut signed = params.clone();
            if signed.is_empty() {
                prop_assert_eq!(canon.as_str(), "");
            }
            read.sort();
            signed.sort();
            prop_assert_eq!(read, signed);
            // Sorted by encoded key, then encoded value.
            let pairs: Vec<&str> = canon.split('&').filter(|p| !p.is_empty()).collect();
            let mut sorted = pairs.clone();
            sorted.sort_by_key(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.to_owned())
            });
            prop_assert_eq!(pairs, sorted);
        }
    }
}
