//! Compressed answers for the snippet's files: brotli or gzip, as the browser accepts.
//!
//! The files are small and the same for every visitor, so each is compressed once
//! (the wasm at build time by `cargo xtask dist`, the script, whose first line depends
//! on the config, on its first request) and then served from memory: no per-request
//! compression, and the best levels (brotli 11, gzip 9) cost nothing after the first.

use std::io::Write as _;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};

/// A content coding the relay can answer with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    /// `br`.
    Brotli,
    /// `gzip`.
    Gzip,
    /// No `Content-Encoding`.
    Identity,
}

impl Coding {
    /// The `Content-Encoding` value, `None` for identity.
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            Coding::Brotli => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        }
    }
}

/// One coding of a file: its bytes and their `ETag`.
#[derive(Clone, Debug)]
pub struct Variant {
    /// What is sent.
    pub bytes: Bytes,
    /// A quoted hash of `bytes`: each coding has its own, as HTTP requires.
    pub etag: HeaderValue,
}

impl Variant {
    fn new(bytes: Bytes) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(&bytes);
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        Variant {
            // Hex digits in quotes are always a valid header value.
            etag: HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex in quotes"),
            bytes,
        }
    }
}

/// One file in every coding the relay serves.
#[derive(Clone, Debug)]
pub struct Encoded {
    identity: Variant,
    gzip: Variant,
    brotli: Variant,
}

impl Encoded {
    /// Compresses `bytes` in both codings.
    pub fn compress(bytes: Bytes) -> Self {
        Self::precompressed(bytes, None, None)
    }

    /// A file compressed ahead of time; a coding that is missing (a `web/dist/`
    /// built before `cargo xtask dist` precompressed) is made here.
    pub fn precompressed(identity: Bytes, gzip_bytes: Option<Bytes>, br: Option<Bytes>) -> Self {
        Encoded {
            gzip: Variant::new(gzip_bytes.unwrap_or_else(|| gzip(&identity).into())),
            brotli: Variant::new(br.unwrap_or_else(|| brotli(&identity).into())),
            identity: Variant::new(identity),
        }
    }

    /// The coding the request prefers, and the file in it.
    pub fn for_request(&self, headers: &HeaderMap) -> (Coding, &Variant) {
        let coding = negotiate(headers);
        let variant = match coding {
            Coding::Brotli => &self.brotli,
            Coding::Gzip => &self.gzip,
            Coding::Identity => &self.identity,
        };
        (coding, variant)
    }
}

/// gzip at level 9, what web servers use for static assets.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    enc.write_all(bytes).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

/// brotli at quality 11, the best: slow, but each file is compressed once.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    // Reading from a slice and writing to a Vec cannot fail.
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("compressing in memory");
    out
}

/// The coding to answer with, from `Accept-Encoding`: brotli over gzip over none, and
/// none of those the request refuses with `q=0`. Without the header, identity
/// (RFC 9110 allows any coding then, but a client that sends nothing may not decode).
pub fn negotiate(headers: &HeaderMap) -> Coding {
    let mut brotli = None;
    let mut gzip = None;
    let mut star = None;
    for item in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let accepted = q > 0.0;
        match name.as_str() {
            "br" => brotli = Some(accepted),
            "gzip" | "x-gzip" => gzip = Some(accepted),
            "*" => star = Some(accepted),
            _ => {}
        }
    }
    let ok = |named: Option<bool>| named.or(star).unwrap_or(false);
    if ok(brotli) {
        Coding::Brotli
    } else if ok(gzip) {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn negotiation_prefers_brotli_and_respects_refusals() {
        let cases: &[(&[&str], Coding)] = &[
            (&[], Coding::Identity),
            (&["gzip, deflate, br, zstd"], Coding::Brotli),
            (&["gzip, deflate"], Coding::Gzip),
            (&["GZIP"], Coding::Gzip),
            (&["x-gzip"], Coding::Gzip),
            (&["br;q=0, gzip;q=0.5"], Coding::Gzip),
            (&["br; q=0", "gzip;q=0"], Coding::Identity),
            (&["identity"], Coding::Identity),
            (&["*"], Coding::Brotli),
            (&["*;q=0"], Coding::Identity),
            (&["*, br;q=0"], Coding::Gzip),
            (&["deflate"], Coding::Identity),
            (&["gzip;q=nonsense"], Coding::Gzip),
        ];
        for (values, want) in cases {
            let mut headers = HeaderMap::new();
            for v in *values {
                headers.append(header::ACCEPT_ENCODING, v.parse().unwrap());
            }
            assert_eq!(negotiate(&headers), *want, "Accept-Encoding: {values:?}");
        }
    }

    #[test]
    fn both_codings_decode_to_the_original() {
        let text = Bytes::from("sitehook ".repeat(500));
        let e = Encoded::compress(text.clone());
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&e.gzip.bytes[..])
            .read_to_end(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, text);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &e.brotli.bytes[..], &mut unbrotli).unwrap();
        assert_eq!(unbrotli, text);
        assert!(e.brotli.bytes.len() < text.len() / 10 && e.gzip.bytes.len() < text.len() / 10);
        assert_ne!(e.gzip.etag, e.identity.etag, "one ETag per coding");
    }
}
