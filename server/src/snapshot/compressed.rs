//! A snapshot's JSON compressed, once per snapshot and encoding: the first `/nodes` request of a
//! version that accepts brotli (or gzip) compresses it on a blocking thread while the others
//! asking for the same wait for it; every later one gets the same bytes. A snapshot nobody asks
//! for compressed costs nothing. (3 MB of JSON at 10,000 workers crosses the wire as 166 KB of gzip.)
//!
//! Once a request asked for an encoding, the next snapshot's copy is made as soon as it is
//! published ([`Compressed::asked`], then [`Compressed::make`]), so a client polling `/nodes`
//! finds it ready instead of waiting for it; a version nobody asked for stops that.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Bytes;
use tokio::sync::OnceCell;

/// A content coding `/nodes` is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `br`: smaller than gzip for the same time.
    Brotli = 0,
    /// `gzip`.
    Gzip = 1,
}

impl Encoding {
    /// The `Content-Encoding` value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Brotli => "br",
            Self::Gzip => "gzip",
        }
    }
}

/// The compressed copies of one snapshot's JSON, made on first use.
#[derive(Debug, Default)]
pub struct Compressed {
    brotli: OnceCell<Bytes>,
    gzip: OnceCell<Bytes>,
    /// Whether a request asked for each (brotli, gzip).
    asked: [AtomicBool; 2],
}

impl Compressed {
    /// `json` in `encoding` for a request, compressed now if nothing did it before.
    pub async fn get(&self, json: &Bytes, encoding: Encoding) -> Bytes {
        self.asked[encoding as usize].store(true, Ordering::Relaxed);
        self.make(json, encoding).await
    }

    /// The encodings requests asked this snapshot for.
    pub fn asked(&self) -> impl Iterator<Item = Encoding> + '_ {
        [Encoding::Brotli, Encoding::Gzip]
            .into_iter()
            .filter(|&e| self.asked[e as usize].load(Ordering::Relaxed))
    }

    /// Whether the copy in `encoding` is made.
    pub fn ready(&self, encoding: Encoding) -> bool {
        self.cell(encoding).initialized()
    }

    fn cell(&self, encoding: Encoding) -> &OnceCell<Bytes> {
        match encoding {
            Encoding::Brotli => &self.brotli,
            Encoding::Gzip => &self.gzip,
        }
    }

    /// `json` in `encoding`, compressed now unless it was before (no request is counted).
    pub async fn make(&self, json: &Bytes, encoding: Encoding) -> Bytes {
        self.cell(encoding)
            .get_or_init(|| {
                let json = json.clone();
                async move {
                    tokio::task::spawn_blocking(move || compress(&json, encoding))
                        .await
                        .expect("compressing into memory does not fail")
                }
            })
            .await
            .clone()
    }
}

/// Fast settings (gzip level 1, brotli quality 4): the JSON repeats its field names, so even
/// these shrink it eighteen- to thirty-fold (gzip in about 1 ms per megabyte, brotli ten times
/// that).
fn compress(json: &[u8], encoding: Encoding) -> Bytes {
    let mut out = Vec::with_capacity(json.len() / 8);
    match encoding {
        Encoding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: 4,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &json[..], &mut out, &params)
                .expect("compressing into memory does not fail");
        }
        Encoding::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(&mut out, flate2::Compression::fast());
            gz.write_all(json)
                .and_then(|()| gz.finish().map(drop))
                .expect("compressing into memory does not fail");
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[tokio::test]
    async fn each_encoding_is_made_once_and_decodes_to_the_json() {
        let json = Bytes::from(r#"{"workers":[{"name":"a","alive":true}]}"#.repeat(1000));
        let compressed = Compressed::default();
        let gzip = compressed.get(&json, Encoding::Gzip).await;
        assert!(
            gzip.len() * 10 < json.len(),
            "{} of {}",
            gzip.len(),
            json.len()
        );
        let again = compressed.get(&json, Encoding::Gzip).await;
        assert_eq!(
            again.as_ptr(),
            gzip.as_ptr(),
            "the same bytes, not compressed again"
        );
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, json);

        assert_eq!(compressed.asked().collect::<Vec<_>>(), [Encoding::Gzip]);
        let br = compressed.get(&json, Encoding::Brotli).await;
        let mut plain = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut plain).unwrap();
        assert_eq!(plain, json);
    }
}
