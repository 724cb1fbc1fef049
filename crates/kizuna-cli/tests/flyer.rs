//! The registration drive kit as a parent's phone and a printer see it: the QR code is read
//! back with a decoder (rqrr) from the PNG the command writes and from the flyer and the card
//! as poppler prints them (`pdftoppm -r 150`), and the text a parent reads is extracted with
//! `pdftotext`.
//!
//! Needs a Japanese font and poppler-utils (`bash scripts/install-print-tools`, which
//! scripts/test runs first). Without them these tests fail, never skip: a flyer that prints
//! empty boxes must not pass.

use kizuna_app::model::Municipality;
use kizuna_app::ports::MunicipalityDirectory;
use kizuna_cli::commands::flyer::{self, make_flyer, FlyerArgs, QrArgs};
use kizuna_cli::commands::ops::Ops;
use kizuna_cli::flyer::fonts::{FontError, Fonts};
use kizuna_cli::flyer::{A4, CARD, MM};
use kizuna_cli::qr::{QrMatrix, PNG_MODULE_PX};
use kizuna_core::MunicipalityId;
use kizuna_tests::stack::content_dir;
use kizuna_tests::test_aws;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A made-up id: the docs' images must not send a reader to somebody's real account.
const SAMPLE_BASIC_ID: &str = "@kizuna.sample";
const SAMPLE_URL: &str = "https://line.me/R/ti/p/%40kizuna.sample";
const PRIVACY_URL: &str = "https://www.example.jp/kizuna-town/privacy";

/// The sample town (content/municipalities/kizuna-town) as onboarding records it.
fn sample_town() -> Municipality {
    let mut m = Municipality::new(MunicipalityId::parse("kizuna-town").unwrap(), "きずな町", 7);
    m.bot_user_id = Some("U0123456789abcdef0123456789abcdef".into());
    m.bot_basic_id = Some(SAMPLE_BASIC_ID.into());
    m.privacy_url = Some(PRIVACY_URL.into());
    m
}

fn fonts() -> Fonts {
    Fonts::load(None, 0).unwrap_or_else(|e| {
        panic!(
            "{e}\n(the flyer tests need a Japanese font: run `bash scripts/install-print-tools`)"
        )
    })
}

/// Every QR code rqrr finds in a PNG, decoded.
fn decode_qr(png_bytes: &[u8]) -> Vec<String> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("a sane PNG")];
    let info = reader.next_frame(&mut buf).expect("one frame");
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => panic!("unexpected PNG colour type {other:?}"),
    };
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    let (w, h) = (info.width as usize, info.height as usize);
    let luma = |x: usize, y: usize| -> u8 {
        let p = &buf[y * info.line_size + x * channels..];
        if channels >= 3 {
            ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114) / 1000) as u8
        } else {
            p[0]
        }
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    // Only what decodes: a printed page may have shapes the detector takes for a code's
    // corners (the numbered circles), which then decode to nothing.
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .collect()
}

fn png_size(png_bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .expect("a PNG");
    (reader.info().width, reader.info().height)
}

/// The PDF's first page as poppler prints it at `dpi`.
fn pdftoppm(pdf: &Path, dpi: u32) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("page");
    let status = Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-png", "-singlefile"])
        .arg(pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm (poppler-utils) is needed: run `bash scripts/install-print-tools`");
    assert!(status.success(), "pdftoppm failed on {}", pdf.display());
    std::fs::read(prefix.with_extension("png")).unwrap()
}

fn pdftotext(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is needed: run `bash scripts/install-print-tools`");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Pixels of `points` at `dpi`, as pdftoppm rounds them (up).
fn px(points: f32, dpi: u32) -> u32 {
    (points / 72.0 * dpi as f32).ceil() as u32
}

fn sample_flyer(out: &Path) -> flyer::FlyerFiles {
    let library = flyer::load_content(&content_dir()).unwrap();
    make_flyer(&sample_town(), &library, &fonts(), out).unwrap()
}

#[test]
fn the_qr_png_decodes_back_to_the_add_friend_url() {
    let png = QrMatrix::encode(SAMPLE_URL).unwrap().to_png(PNG_MODULE_PX);
    assert_eq!(decode_qr(&png), vec![SAMPLE_URL.to_owned()]);
    // A version-3 code (29 modules) and its 4-module quiet zone, 10 px a module.
    assert_eq!(png_size(&png), (370, 370));
}

#[test]
fn the_printed_a4_flyer_scans_and_names_the_town_its_contact_and_policy() {
    let dir = tempfile::tempdir().unwrap();
    let files = sample_flyer(dir.path());
    let page = pdftoppm(&files.a4, 150);
    // A4 at 150 dpi: 1241 × 1754 pixels.
    assert_eq!(png_size(&page), (px(A4.0, 150), px(A4.1, 150)));
    // The code as printed, read by a decoder the way a phone's camera would.
    assert_eq!(decode_qr(&page), vec![SAMPLE_URL.to_owned()]);

    let text = pdftotext(&files.a4);
    for expected in [
        "きずな町",
        "きずな町保健センター",
        "000-000-0000",
        "平日 8時30分〜17時15分",
        "きずな町こども家庭センター",
        PRIVACY_URL,
        SAMPLE_BASIC_ID,
        "同意して登録する",
        "7時ごろ",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn the_printed_card_scans_and_fits_the_handbook() {
    let dir = tempfile::tempdir().unwrap();
    let files = sample_flyer(dir.path());
    let page = pdftoppm(&files.card, 150);
    // 91 × 55 mm: inside an A6 (105 × 148) and a B6 (128 × 182) 母子健康手帳.
    assert_eq!(png_size(&page), (px(91.0 * MM, 150), px(55.0 * MM, 150)));
    assert!(CARD.0 < 105.0 * MM && CARD.1 < 148.0 * MM);
    assert_eq!(decode_qr(&page), vec![SAMPLE_URL.to_owned()]);

    let text = pdftotext(&files.card);
    for expected in ["きずな町", "000-000-0000", PRIVACY_URL, "同意して登録する"] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn a_font_without_japanese_is_refused_rather_than_printing_empty_boxes() {
    let dejavu = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
    assert!(
        dejavu.is_file(),
        "this test uses Debian's DejaVu Sans (fonts-dejavu-core) as a font without Japanese"
    );
    let fonts = Fonts::load(Some(dejavu), 0).unwrap();
    let library = flyer::load_content(&content_dir()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = make_flyer(&sample_town(), &library, &fonts, dir.path()).unwrap_err();
    let font_error = err.downcast_ref::<kizuna_cli::flyer::FlyerError>();
    assert!(
        matches!(
            font_error,
            Some(kizuna_cli::flyer::FlyerError::Font(
                FontError::MissingGlyphs { .. }
            ))
        ),
        "{err:#}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}

#[test]
fn a_town_without_a_policy_or_contact_gets_no_flyer() {
    let library = flyer::load_content(&content_dir()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // No privacy policy recorded: the flyer must show one.
    let mut m = sample_town();
    m.privacy_url = None;
    let err = make_flyer(&m, &library, &fonts(), dir.path()).unwrap_err();
    assert!(format!("{err:#}").contains("--privacy-url"), "{err:#}");
    // A town the content pack has no overlay for: no name or contact to print.
    let mut m = sample_town();
    m.id = MunicipalityId::parse("other-town").unwrap();
    let err = make_flyer(&m, &library, &fonts(), dir.path()).unwrap_err();
    assert!(
        format!("{err:#}").contains("municipalities/other-town/municipality.toml"),
        "{err:#}"
    );
}

#[tokio::test]
async fn the_commands_read_the_town_from_the_directory() {
    let aws = test_aws().await;
    let ops = Ops::new(aws.config.clone(), aws.clients.clone());
    let directory = aws.municipalities();
    directory.put(&sample_town()).await.unwrap();
    let mut unverified = Municipality::new(MunicipalityId::parse("new-town").unwrap(), "新町", 8);
    unverified.privacy_url = Some(PRIVACY_URL.into());
    directory.put(&unverified).await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    // qr: the PNG decodes to the URL; the SVG is written when asked for.
    let png = dir.path().join("town.png");
    let mut out = Vec::new();
    let args = QrArgs {
        id: sample_town().id,
        out: Some(png.clone()),
    };
    flyer::qr(&ops, &args, &mut out).await.unwrap();
    assert_eq!(decode_qr(&std::fs::read(&png).unwrap()), vec![SAMPLE_URL]);
    assert!(String::from_utf8(out).unwrap().contains(SAMPLE_URL));
    let svg = dir.path().join("town.svg");
    let args = QrArgs {
        id: sample_town().id,
        out: Some(svg.clone()),
    };
    flyer::qr(&ops, &args, &mut Vec::new()).await.unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg "));

    // A town whose bot was never verified: told, in both languages, how to record the id.
    let args = QrArgs {
        id: unverified.id.clone(),
        out: Some(dir.path().join("new.png")),
    };
    let err = flyer::qr(&ops, &args, &mut Vec::new()).await.unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("ベーシックIDが記録されていません"), "{text}");
    assert!(text.contains("kizuna municipality add new-town"), "{text}");
    assert!(!dir.path().join("new.png").exists());

    // flyer: both PDFs, named after the town, in the directory asked for.
    let out_dir = dir.path().join("print");
    let args = FlyerArgs {
        id: sample_town().id,
        content: content_dir(),
        out: out_dir.clone(),
        font: None,
        font_index: 0,
    };
    let mut out = Vec::new();
    flyer::flyer(&ops, &args, &mut out).await.unwrap();
    let printed = String::from_utf8(out).unwrap();
    for name in ["kizuna-town-flyer-a4.pdf", "kizuna-town-flyer-card.pdf"] {
        let bytes = std::fs::read(out_dir.join(name)).unwrap();
        assert!(bytes.starts_with(b"%PDF-"), "{name}");
        assert!(printed.contains(name), "{printed}");
    }
    // A town that is not in the directory.
    let args = FlyerArgs {
        id: MunicipalityId::parse("nowhere").unwrap(),
        ..args
    };
    let err = flyer::flyer(&ops, &args, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("nowhere"), "{err:#}");
}

/// Regenerates docs/images/flyer.png and docs/images/flyer-card.png from the sample town
/// (`bash scripts/render-flyer`).
#[test]
#[ignore = "writes docs/images; run by scripts/render-flyer"]
fn render_docs_images() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let images = root.join("docs/images");
    std::fs::create_dir_all(&images).unwrap();
    // The PDFs are kept in the target directory for a look before committing the images.
    let pdfs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("flyer");
    let files = sample_flyer(&pdfs);
    eprintln!("PDFs in {}", pdfs.display());
    // 100 dpi keeps the A4 page under 400 KB and still readable; the card at 200 dpi.
    for (pdf, dpi, name) in [
        (&files.a4, 100, "flyer.png"),
        (&files.card, 200, "flyer-card.png"),
    ] {
        let png = pdftoppm(pdf, dpi);
        std::fs::write(images.join(name), &png).unwrap();
        assert_eq!(decode_qr(&png), vec![SAMPLE_URL], "{name} must scan");
        assert!(png.len() < 400 * 1024, "{name} is {} bytes", png.len());
        eprintln!("wrote docs/images/{name} ({} bytes)", png.len());
    }
}
