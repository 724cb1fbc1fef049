//! The registration drive kit a clerk hands out at the 母子健康手帳 desk: an A4 flyer and a
//! card for the handbook, as PDFs (krilla: typst's PDF library, which embeds a subset of the
//! Japanese OpenType font, so the files are small and print the same anywhere).
//!
//! [`wording`] decides what is said, [`wrap`] where lines break, [`fonts`] what it is set in;
//! this module only places things on the page. Coordinates are PDF points (1/72 inch) from
//! the page's top-left corner, as krilla takes them.

pub mod fonts;
pub mod wording;
pub mod wrap;

use crate::qr::{QrMatrix, QUIET_ZONE};
use fonts::{Face, FontError, Fonts};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use krilla::Document;
use wording::{CardWording, FlyerWording, TownFacts};

/// Points per millimetre.
pub const MM: f32 = 72.0 / 25.4;
/// ISO A4, portrait: what every town office printer takes.
pub const A4: (f32, f32) = (210.0 * MM, 297.0 * MM);
/// The card: Japanese business-card size (名刺, 91 × 55 mm). The 母子健康手帳 comes in A6
/// (105 × 148 mm) and B6 (128 × 182 mm); a 91 × 55 card lies inside either with room to
/// spare, fits the card pockets of handbook covers (made for 診察券 of about this size), and
/// can be printed on the A4 card sheets (10 per sheet) that town offices keep for 名刺.
pub const CARD: (f32, f32) = (91.0 * MM, 55.0 * MM);

const INK: (u8, u8, u8) = (0x33, 0x33, 0x33);
const MUTED: (u8, u8, u8) = (0x5f, 0x63, 0x68);
/// A calm green, legible in greyscale print too (white text on it keeps a 4.5:1 contrast).
const ACCENT: (u8, u8, u8) = (0x1b, 0x7a, 0x5a);
const ACCENT_LIGHT: (u8, u8, u8) = (0xe8, 0xf4, 0xee);
const WHITE: (u8, u8, u8) = (0xff, 0xff, 0xff);

/// Everything the flyer and the card print.
#[derive(Debug, Clone, Copy)]
pub struct FlyerInput<'a> {
    pub facts: TownFacts<'a>,
    /// The town's add-friend URL (`kizuna_app::add_friend`), encoded in the QR code.
    pub add_friend_url: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum FlyerError {
    #[error(transparent)]
    Font(#[from] FontError),
    #[error(transparent)]
    Qr(#[from] crate::qr::QrError),
    #[error(
        "{what} の文章が長すぎて1ページに収まりません（連絡先などを短くしてください） / the {what}'s \
         text does not fit its page (shorten the contact or the town's texts)"
    )]
    DoesNotFit { what: &'static str },
    #[error("PDFを書き出せません / writing the PDF failed: {0}")]
    Pdf(String),
}

fn fill(surface: &mut Surface<'_>, (r, g, b): (u8, u8, u8)) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }));
}

fn rect(surface: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        fill(surface, color);
        surface.set_stroke(None);
        surface.draw_path(&path);
    }
}

fn outline(surface: &mut Surface<'_>, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
    let mut pb = PathBuilder::new();
    if let Some(r) = Rect::from_xywh(x, y, w, h) {
        pb.push_rect(r);
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(color.0, color.1, color.2).into(),
            width: 0.75,
            ..Default::default()
        }));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}

fn circle(surface: &mut Surface<'_>, cx: f32, cy: f32, r: f32, color: (u8, u8, u8)) {
    // Four cubic Béziers, the usual 0.5523 approximation of a quarter circle.
    let k = 0.552_284_8 * r;
    let mut pb = PathBuilder::new();
    pb.move_to(cx + r, cy);
    pb.cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    pb.cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    pb.cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    pb.cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy);
    pb.close();
    if let Some(path) = pb.finish() {
        fill(surface, color);
        surface.set_stroke(None);
        surface.draw_path(&path);
    }
}

/// One line of text with its baseline at `y`.
fn text(
    surface: &mut Surface<'_>,
    face: &Face,
    size: f32,
    x: f32,
    y: f32,
    s: &str,
    color: (u8, u8, u8),
) {
    fill(surface, color);
    surface.draw_text(
        Point::from_xy(x, y),
        face.pdf_font(),
        size,
        s,
        false,
        TextDirection::LeftToRight,
    );
}

fn text_centered(
    surface: &mut Surface<'_>,
    face: &Face,
    size: f32,
    center_x: f32,
    y: f32,
    s: &str,
    color: (u8, u8, u8),
) {
    let x = center_x - face.width(s, size) / 2.0;
    text(surface, face, size, x, y, s, color);
}

/// The size at most `size` at which `s` fits `width` on one line (long town names).
fn fitting_size(face: &Face, s: &str, size: f32, width: f32) -> f32 {
    let w = face.width(s, size);
    if w > width {
        size * width / w
    } else {
        size
    }
}

/// A wrapped paragraph whose first line's top is at `top`; returns the bottom of its last line.
#[allow(clippy::too_many_arguments)]
fn paragraph(
    surface: &mut Surface<'_>,
    face: &Face,
    size: f32,
    leading: f32,
    x: f32,
    top: f32,
    width: f32,
    s: &str,
    color: (u8, u8, u8),
) -> f32 {
    let lines = wrap::wrap(s, width, |t| face.width(t, size));
    let line_height = size * leading;
    for (i, line) in lines.iter().enumerate() {
        // The baseline sits about 0.88 em below the top of a CJK line box.
        let baseline = top + i as f32 * line_height + size * 0.88 + (line_height - size) / 2.0;
        text(surface, face, size, x, baseline, line, color);
    }
    top + lines.len() as f32 * line_height
}

/// Height [`paragraph`] will take, without drawing.
fn paragraph_height(face: &Face, size: f32, leading: f32, width: f32, s: &str) -> f32 {
    wrap::wrap(s, width, |t| face.width(t, size)).len() as f32 * size * leading
}

/// The QR code, quiet zone included, as a `side`-point white square at (`x`, `y`).
fn qr_code(surface: &mut Surface<'_>, qr: &QrMatrix, x: f32, y: f32, side: f32) {
    rect(surface, x, y, side, side, WHITE);
    let module = side / qr.width_with_quiet_zone() as f32;
    let mut pb = PathBuilder::new();
    for (row, col, len) in qr.dark_runs() {
        if let Some(r) = Rect::from_xywh(
            x + (col + QUIET_ZONE) as f32 * module,
            y + (row + QUIET_ZONE) as f32 * module,
            len as f32 * module,
            module,
        ) {
            pb.push_rect(r);
        }
    }
    if let Some(path) = pb.finish() {
        fill(surface, (0, 0, 0));
        surface.set_stroke(None);
        surface.draw_path(&path);
    }
}

fn finish(document: Document) -> Result<Vec<u8>, FlyerError> {
    document
        .finish()
        .map_err(|e| FlyerError::Pdf(format!("{e:?}")))
}

fn metadata(title: String) -> Metadata {
    // No creation date: the same town and texts give the same file.
    Metadata::new()
        .title(title)
        .language("ja".to_owned())
        .creator("Kizuna (kizuna municipality flyer)".to_owned())
}

/// Every character the PDFs will print, to check the font has them all before drawing.
fn all_text(flyer: &FlyerWording, card: &CardWording) -> String {
    let mut s = String::new();
    for part in [
        &flyer.kicker,
        &flyer.title[0],
        &flyer.title[1],
        &flyer.lead,
        &flyer.receive_heading,
        &flyer.receive_note,
        &flyer.steps_heading,
        &flyer.qr_caption,
        &flyer.line_id,
        &flyer.privacy,
        &flyer.contact_heading,
        &flyer.contact,
        &flyer.center,
        &card.town,
        &card.title[0],
        &card.title[1],
        &card.line_id,
        &card.contact,
        &card.privacy,
        &"0123456789".to_owned(),
    ] {
        s.push_str(part);
    }
    for row in flyer.receive.iter().chain(&flyer.steps) {
        s.push_str(&row.label);
        s.push_str(&row.text);
    }
    for step in &card.steps {
        s.push_str(step);
    }
    s
}

/// The A4 flyer, one page.
pub fn render_flyer(input: &FlyerInput<'_>, fonts: &Fonts) -> Result<Vec<u8>, FlyerError> {
    let w = FlyerWording::new(&input.facts);
    fonts.check_covers(&all_text(&w, &CardWording::new(&input.facts)))?;
    let qr = QrMatrix::encode(input.add_friend_url)?;
    let (page_w, page_h) = A4;
    let margin = 15.0 * MM;
    let content_w = page_w - 2.0 * margin;
    let (regular, bold) = (&fonts.regular, &fonts.bold);

    let mut document = Document::new();
    document.set_metadata(metadata(format!(
        "{}　LINE登録のご案内",
        input.facts.town.municipality
    )));
    let settings = PageSettings::from_wh(page_w, page_h).expect("A4 is a valid page size");
    let mut page = document.start_page_with(settings);
    let mut s = page.surface();

    // The band: from which town, and the promise in two lines.
    let band_h = 134.0;
    rect(&mut s, 0.0, 0.0, page_w, band_h, ACCENT);
    let size = fitting_size(regular, &w.kicker, 13.0, content_w);
    text(&mut s, regular, size, margin, 40.0, &w.kicker, WHITE);
    let size = fitting_size(bold, &w.title[0], 32.0, content_w);
    text(&mut s, bold, size, margin, 82.0, &w.title[0], WHITE);
    let size = fitting_size(bold, &w.title[1], 26.0, content_w);
    text(&mut s, bold, size, margin, 118.0, &w.title[1], WHITE);

    let mut y = band_h + 16.0;
    y = paragraph(
        &mut s, regular, 13.0, 1.6, margin, y, content_w, &w.lead, INK,
    );

    // 届くメッセージ: a row per window, label on the left.
    y += 12.0;
    let heading = |s: &mut Surface<'_>, y: f32, label: &str| -> f32 {
        text(s, bold, 16.0, margin, y + 16.0, label, ACCENT);
        rect(s, margin, y + 23.0, content_w, 1.2, ACCENT);
        y + 32.0
    };
    y = heading(&mut s, y, &w.receive_heading);
    let label_w = 112.0;
    let body_x = margin + label_w + 8.0;
    let body_w = content_w - label_w - 8.0 - 8.0;
    for (i, row) in w.receive.iter().enumerate() {
        let h = paragraph_height(regular, 12.0, 1.55, body_w, &row.text).max(12.0 * 1.55) + 8.0;
        if i % 2 == 0 {
            rect(&mut s, margin, y, content_w, h, ACCENT_LIGHT);
        }
        text(
            &mut s,
            bold,
            12.5,
            margin + 8.0,
            y + 4.0 + 12.5 * 1.06,
            &row.label,
            ACCENT,
        );
        paragraph(
            &mut s,
            regular,
            12.0,
            1.55,
            body_x,
            y + 4.0,
            body_w,
            &row.text,
            INK,
        );
        y += h;
    }
    y += 4.0;
    y = paragraph(
        &mut s,
        regular,
        10.5,
        1.6,
        margin,
        y,
        content_w,
        &w.receive_note,
        MUTED,
    );

    // 登録は3ステップ, with the QR code beside the steps (52 mm: a phone held at arm's
    // length over the counter reads it at once).
    y += 12.0;
    y = heading(&mut s, y, &w.steps_heading);
    let qr_side = 52.0 * MM;
    let qr_x = page_w - margin - qr_side;
    let steps_w = qr_x - margin - 20.0;
    let steps_top = y + 4.0;
    let mut sy = steps_top;
    for (i, step) in w.steps.iter().enumerate() {
        let r = 13.0;
        circle(&mut s, margin + r, sy + r, r, ACCENT);
        text_centered(
            &mut s,
            bold,
            15.0,
            margin + r,
            sy + r + 5.3,
            &(i + 1).to_string(),
            WHITE,
        );
        let tx = margin + 2.0 * r + 10.0;
        text(&mut s, bold, 14.0, tx, sy + 19.0, &step.label, INK);
        sy = paragraph(
            &mut s,
            regular,
            11.0,
            1.55,
            tx,
            sy + 25.0,
            steps_w - (tx - margin),
            &step.text,
            INK,
        );
        sy += 9.0;
    }
    outline(
        &mut s,
        qr_x - 1.0,
        steps_top - 1.0,
        qr_side + 2.0,
        qr_side + 2.0,
        MUTED,
    );
    qr_code(&mut s, &qr, qr_x, steps_top, qr_side);
    let qr_center = qr_x + qr_side / 2.0;
    text_centered(
        &mut s,
        bold,
        13.0,
        qr_center,
        steps_top + qr_side + 20.0,
        &w.qr_caption,
        INK,
    );
    let size = fitting_size(regular, &w.line_id, 10.0, qr_side + 20.0);
    text_centered(
        &mut s,
        regular,
        size,
        qr_center,
        steps_top + qr_side + 37.0,
        &w.line_id,
        MUTED,
    );
    y = sy.max(steps_top + qr_side + 42.0);

    // お問い合わせ, then the privacy notice in one sentence.
    y += 4.0;
    let box_pad = 10.0;
    let inner_w = content_w - 2.0 * box_pad;
    let box_h = box_pad
        + 20.0
        + paragraph_height(regular, 12.0, 1.6, inner_w, &w.contact)
        + paragraph_height(regular, 10.5, 1.6, inner_w, &w.center)
        + box_pad;
    rect(&mut s, margin, y, content_w, box_h, ACCENT_LIGHT);
    text(
        &mut s,
        bold,
        12.5,
        margin + box_pad,
        y + box_pad + 13.0,
        &w.contact_heading,
        ACCENT,
    );
    let cy = paragraph(
        &mut s,
        regular,
        12.0,
        1.6,
        margin + box_pad,
        y + box_pad + 20.0,
        inner_w,
        &w.contact,
        INK,
    );
    paragraph(
        &mut s,
        regular,
        10.5,
        1.6,
        margin + box_pad,
        cy,
        inner_w,
        &w.center,
        INK,
    );
    y += box_h + 8.0;
    y = paragraph(
        &mut s, regular, 9.5, 1.6, margin, y, content_w, &w.privacy, MUTED,
    );

    // 10 mm at the bottom: inside what office printers can print.
    if y > page_h - 10.0 * MM {
        return Err(FlyerError::DoesNotFit { what: "flyer" });
    }

    s.finish();
    page.finish();
    finish(document)
}

/// The card for the 母子健康手帳, one [`CARD`]-sized page.
pub fn render_card(input: &FlyerInput<'_>, fonts: &Fonts) -> Result<Vec<u8>, FlyerError> {
    let c = CardWording::new(&input.facts);
    fonts.check_covers(&all_text(&FlyerWording::new(&input.facts), &c))?;
    let qr = QrMatrix::encode(input.add_friend_url)?;
    let (page_w, page_h) = CARD;
    let margin = 4.0 * MM;
    let content_w = page_w - 2.0 * margin;
    let (regular, bold) = (&fonts.regular, &fonts.bold);

    let mut document = Document::new();
    document.set_metadata(metadata(format!("{}　LINE登録カード", c.town)));
    let settings = PageSettings::from_wh(page_w, page_h).expect("the card is a valid page size");
    let mut page = document.start_page_with(settings);
    let mut s = page.surface();

    let band_h = 36.0;
    rect(&mut s, 0.0, 0.0, page_w, band_h, ACCENT);
    let size = fitting_size(bold, &c.town, 11.0, content_w);
    text(&mut s, bold, size, margin, 15.5, &c.town, WHITE);
    let title = format!("{}、{}", c.title[0], c.title[1]);
    let size = fitting_size(bold, &title, 8.0, content_w);
    text(&mut s, bold, size, margin, 29.0, &title, WHITE);

    // The QR code on the right, as big as the card allows (28 mm with its quiet zone, whose
    // white margin may reach the card's edge).
    let qr_side = 28.0 * MM;
    let qr_x = page_w - qr_side - 2.0 * MM;
    let qr_y = band_h + 1.0;
    qr_code(&mut s, &qr, qr_x, qr_y, qr_side);
    let left_w = qr_x - margin;
    let mut y = band_h + 18.0;
    for step in &c.steps {
        let size = fitting_size(regular, step, 8.2, left_w);
        text(&mut s, regular, size, margin, y, step, INK);
        y += 14.0;
    }
    let size = fitting_size(regular, &c.line_id, 7.0, left_w);
    text(&mut s, regular, size, margin, y + 2.0, &c.line_id, MUTED);

    // Contact and policy at the bottom, under the code.
    let top = qr_y + qr_side + 1.0;
    let y = paragraph(
        &mut s, regular, 6.3, 1.35, margin, top, content_w, &c.contact, INK,
    );
    let size = fitting_size(regular, &c.privacy, 5.8, content_w);
    text(&mut s, regular, size, margin, y + 7.0, &c.privacy, MUTED);
    if y + 9.0 > page_h {
        return Err(FlyerError::DoesNotFit { what: "card" });
    }

    s.finish();
    page.finish();
    finish(document)
}
