//! The Japanese font the flyer is set in: found on the machine (or given with `--font`),
//! checked to have every character the flyer prints, measured for line breaking.
//!
//! The PDF embeds only the glyphs it uses (krilla subsets the font), so the files stay small
//! and print the same on any printer; the font itself is never shipped with Kizuna.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

/// One face of a font file (a `.ttc` holds several; Noto Sans CJK's first is JP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaceLocation {
    pub path: PathBuf,
    pub index: u32,
}

/// Where Japanese fonts live on the machines a clerk or CI uses, regular then bold, in the
/// order they are tried. Debian/Ubuntu's `fonts-noto-cjk` first (CI installs it:
/// scripts/install-print-tools), then other Linux layouts, macOS's Hiragino and Windows's
/// Yu Gothic / Meiryo (run from WSL or Git Bash the paths are spelled differently: use
/// `--font` there).
pub const SYSTEM_FONTS: &[(&str, u32, &str, u32)] = &[
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        0,
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
        0,
    ),
    (
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        0,
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
        0,
    ),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        0,
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
        0,
    ),
    (
        "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Regular.otf",
        0,
        "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Bold.otf",
        0,
    ),
    (
        "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
        0,
        "/System/Library/Fonts/ヒラギノ角ゴシック W6.ttc",
        0,
    ),
    (
        "C:\\Windows\\Fonts\\YuGothM.ttc",
        0,
        "C:\\Windows\\Fonts\\YuGothB.ttc",
        0,
    ),
    (
        "C:\\Windows\\Fonts\\meiryo.ttc",
        0,
        "C:\\Windows\\Fonts\\meiryob.ttc",
        0,
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error(
        "日本語フォントが見つかりません。Debian/Ubuntu では `apt-get install fonts-noto-cjk` \
         （または scripts/install-print-tools）でインストールするか、--font で .otf/.ttf/.ttc \
         を指定してください。 / no Japanese font found (looked for Noto Sans CJK JP, Hiragino, \
         Yu Gothic, Meiryo): install Debian's fonts-noto-cjk (scripts/install-print-tools) or \
         pass --font PATH"
    )]
    NotFound,
    #[error("フォントを読めません / cannot read the font {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("フォントとして読めません / {path} (face {index}) is not an OpenType/TrueType font")]
    NotAFont { path: PathBuf, index: u32 },
    #[error(
        "このフォントには日本語の文字がありません / the font {path} lacks glyphs for {chars:?}: \
         choose a Japanese font (e.g. Noto Sans CJK JP) with --font"
    )]
    MissingGlyphs { path: PathBuf, chars: String },
}

/// A loaded face: its bytes (shared with the PDF writer) and what is needed to measure text.
#[derive(Clone)]
pub struct Face {
    pub location: FaceLocation,
    data: Arc<Vec<u8>>,
    pdf: krilla::text::Font,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Face {
    pub fn load(location: FaceLocation) -> Result<Self, FontError> {
        let data = std::fs::read(&location.path).map_err(|source| FontError::Read {
            path: location.path.clone(),
            source,
        })?;
        let data = Arc::new(data);
        let not_a_font = || FontError::NotAFont {
            path: location.path.clone(),
            index: location.index,
        };
        FontRef::from_index(&data, location.index).map_err(|_| not_a_font())?;
        let pdf =
            krilla::text::Font::new(data.clone().into(), location.index).ok_or_else(not_a_font)?;
        Ok(Self {
            location,
            data,
            pdf,
        })
    }

    fn font_ref(&self) -> FontRef<'_> {
        FontRef::from_index(&self.data, self.location.index)
            .expect("checked when the face was loaded")
    }

    /// The face for the PDF writer.
    pub fn pdf_font(&self) -> krilla::text::Font {
        self.pdf.clone()
    }

    /// Width of `text` at `size` points, from the glyphs' advances (what the PDF writer
    /// places for text without kerning, as Japanese text is set).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let font = self.font_ref();
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .filter_map(|c| charmap.map(c))
            .filter_map(|g| metrics.advance_width(g))
            .sum()
    }

    /// The characters of `text` this face has no glyph for (whitespace aside), once each.
    pub fn missing(&self, text: &str) -> String {
        let font = self.font_ref();
        let charmap = font.charmap();
        let mut missing = String::new();
        for c in text.chars() {
            if !c.is_whitespace() && charmap.map(c).is_none() && !missing.contains(c) {
                missing.push(c);
            }
        }
        missing
    }

    /// Fails unless every character of `text` can be printed with this face: a font without
    /// Japanese would otherwise print empty boxes on the flyer.
    pub fn check_covers(&self, text: &str) -> Result<(), FontError> {
        let chars = self.missing(text);
        if chars.is_empty() {
            Ok(())
        } else {
            Err(FontError::MissingGlyphs {
                path: self.location.path.clone(),
                chars,
            })
        }
    }
}

/// The flyer's two weights. With `--font`, both are the given face.
#[derive(Debug, Clone)]
pub struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

/// The first of [`SYSTEM_FONTS`] whose regular face exists (`exists` is the file system's
/// check; tests pass their own). A missing bold face falls back to the regular one.
pub fn find_system_fonts(exists: impl Fn(&Path) -> bool) -> Option<(FaceLocation, FaceLocation)> {
    SYSTEM_FONTS
        .iter()
        .find(|(regular, ..)| exists(Path::new(regular)))
        .map(|&(regular, ri, bold, bi)| {
            let regular = FaceLocation {
                path: regular.into(),
                index: ri,
            };
            let bold = if exists(Path::new(bold)) {
                FaceLocation {
                    path: bold.into(),
                    index: bi,
                }
            } else {
                regular.clone()
            };
            (regular, bold)
        })
}

impl Fonts {
    /// `--font PATH` (face `index` of a collection) if given, else the machine's Japanese font.
    pub fn load(font: Option<&Path>, index: u32) -> Result<Self, FontError> {
        let (regular, bold) = match font {
            Some(path) => {
                let face = FaceLocation {
                    path: path.to_owned(),
                    index,
                };
                (face.clone(), face)
            }
            None => find_system_fonts(Path::is_file).ok_or(FontError::NotFound)?,
        };
        let regular = Face::load(regular)?;
        let bold = if bold == regular.location {
            regular.clone()
        } else {
            Face::load(bold)?
        };
        Ok(Self { regular, bold })
    }

    /// Fails unless both weights can print every character of `text`.
    pub fn check_covers(&self, text: &str) -> Result<(), FontError> {
        self.regular.check_covers(text)?;
        self.bold.check_covers(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_installed_font_wins_and_bold_falls_back_to_regular() {
        // Nothing installed: no font (the command then says how to install one).
        assert_eq!(find_system_fonts(|_| false), None);
        // Only macOS's Hiragino W3: regular and bold are the same face.
        let (regular, bold) = find_system_fonts(|p| p.to_string_lossy().contains("W3")).unwrap();
        assert!(regular
            .path
            .to_string_lossy()
            .contains("ヒラギノ角ゴシック W3"));
        assert_eq!(regular, bold);
        // Debian's Noto Sans CJK, both weights: face 0 (JP) of each collection.
        let (regular, bold) =
            find_system_fonts(|p| p.starts_with("/usr/share/fonts/opentype/noto")).unwrap();
        assert_eq!(
            regular.path,
            Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
        );
        assert_eq!(
            bold.path,
            Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
        );
        assert_eq!((regular.index, bold.index), (0, 0));
    }

    #[test]
    fn a_missing_or_unreadable_font_is_a_clear_error() {
        let err = Fonts::load(Some(Path::new("/nonexistent/font.ttc")), 0).unwrap_err();
        assert!(matches!(err, FontError::Read { .. }), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let not_a_font = dir.path().join("font.ttf");
        std::fs::write(&not_a_font, b"not a font").unwrap();
        let err = Fonts::load(Some(&not_a_font), 0).unwrap_err();
        assert!(matches!(err, FontError::NotAFont { .. }), "{err}");
        assert!(FontError::NotFound.to_string().contains("fonts-noto-cjk"));
    }
}
