//! A town's add-friend QR code: encoded with the `qrcode` crate, written as PNG (for slides
//! and web pages), SVG (for a print shop) or drawn into the flyer's PDF as vector squares.

use qrcode::{Color, EcLevel, QrCode};
use std::fmt::Write as _;

/// Light modules around the code: the quiet zone the QR standard asks for, without which a
/// phone's camera may not find the code next to printed text.
pub const QUIET_ZONE: usize = 4;

/// Pixels per module in the PNG: a 37-module code (version 3 with its quiet zone) is 370 px,
/// sharp on a slide and still small.
pub const PNG_MODULE_PX: usize = 10;

#[derive(Debug, thiserror::Error)]
#[error("QRコードを作れません / cannot encode {url:?} as a QR code: {source}")]
pub struct QrError {
    url: String,
    #[source]
    source: qrcode::types::QrError,
}

/// The code's modules, row by row, without the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Error correction M (15 %): a flyer that is folded, stamped or smudged at the counter
    /// still scans, and an add-friend URL still fits a small version-3 code.
    pub fn encode(url: &str) -> Result<Self, QrError> {
        let code =
            QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|source| {
                QrError {
                    url: url.to_owned(),
                    source,
                }
            })?;
        Ok(Self {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Modules per side with the quiet zone on both sides.
    pub fn width_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Horizontal runs of dark modules as `(row, first column, length)`: one rectangle per
    /// run, so a renderer draws no seams between neighbouring squares.
    pub fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }

    /// An 8-bit greyscale PNG, `module_px` pixels per module, quiet zone included.
    pub fn to_png(&self, module_px: usize) -> Vec<u8> {
        let side = self.width_with_quiet_zone() * module_px;
        let mut pixels = vec![255u8; side * side];
        for (y, x0, len) in self.dark_runs() {
            let top = (y + QUIET_ZONE) * module_px;
            let left = (x0 + QUIET_ZONE) * module_px;
            for row in top..top + module_px {
                pixels[row * side + left..row * side + left + len * module_px].fill(0);
            }
        }
        let mut png = Vec::new();
        let side = u32::try_from(side).expect("a QR code is at most 185 modules wide");
        let mut encoder = png::Encoder::new(&mut png, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .expect("writing to a Vec cannot fail");
        writer
            .write_image_data(&pixels)
            .expect("the buffer has exactly side × side pixels");
        writer.finish().expect("writing to a Vec cannot fail");
        png
    }

    /// An SVG in module units (scale it freely: it stays sharp), quiet zone included.
    pub fn to_svg(&self) -> String {
        let side = self.width_with_quiet_zone();
        let mut path = String::new();
        for (y, x0, len) in self.dark_runs() {
            let _ = write!(
                path,
                "M{} {}h{}v1h-{}z",
                x0 + QUIET_ZONE,
                y + QUIET_ZONE,
                len,
                len
            );
        }
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
             width=\"{px}\" height=\"{px}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
             <path d=\"{path}\" fill=\"#000\"/></svg>\n",
            px = side * PNG_MODULE_PX
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let qr = QrMatrix::encode("https://line.me/R/ti/p/%40123abcde").unwrap();
        // Version 3 (29 modules): the short URL keeps the code coarse enough for a card.
        assert_eq!(qr.width(), 29);
        let mut from_runs = vec![false; qr.width() * qr.width()];
        for (y, x0, len) in qr.dark_runs() {
            assert!(len > 0);
            for x in x0..x0 + len {
                assert!(!from_runs[y * qr.width() + x], "runs overlap");
                from_runs[y * qr.width() + x] = true;
            }
        }
        assert_eq!(from_runs, qr.dark);
    }

    #[test]
    fn svg_has_one_square_per_run_and_the_quiet_zone() {
        let qr = QrMatrix::encode("https://line.me/R/ti/p/%40123abcde").unwrap();
        let svg = qr.to_svg();
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains("viewBox=\"0 0 37 37\""));
        assert_eq!(svg.matches('z').count(), qr.dark_runs().len());
        // The top-left finder pattern starts at the quiet zone's edge.
        assert!(svg.contains("M4 4h7v1h-7z"), "{svg}");
    }
}
