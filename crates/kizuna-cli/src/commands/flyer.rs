//! `kizuna municipality qr ID` and `kizuna municipality flyer ID`: the town's add-friend QR
//! code, and the printable flyer and card a clerk hands out at the 母子健康手帳 desk.
//!
//! Both read the town's record from the municipality directory (its LINE basic id, privacy
//! policy URL and delivery hour); the flyer also reads the content pack's overlay for the
//! town's name, こども家庭センター and contact, so that the flyer says what the messages say.

use crate::commands::ops::{parse_municipality, Ops};
use crate::flyer::fonts::Fonts;
use crate::flyer::wording::TownFacts;
use crate::flyer::{render_card, render_flyer, FlyerInput};
use crate::qr::{QrMatrix, PNG_MODULE_PX};
use anyhow::{bail, Context as _};
use clap::Args;
use kizuna_app::add_friend;
use kizuna_app::model::Municipality;
use kizuna_app::ports::MunicipalityDirectory;
use kizuna_aws::compose;
use kizuna_core::content::{ContentLibrary, FALLBACK_CENTER, FALLBACK_CONTACT};
use kizuna_core::MunicipalityId;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args, Debug, Clone)]
pub struct QrArgs {
    #[arg(value_parser = parse_municipality)]
    pub id: MunicipalityId,
    /// Where to write the code: .png (for slides and web pages) or .svg (for a print shop).
    /// Default: ID-line-qr.png in the current directory.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct FlyerArgs {
    #[arg(value_parser = parse_municipality)]
    pub id: MunicipalityId,
    /// The content pack (its municipalities/ID/municipality.toml gives the town's name and
    /// contact).
    #[arg(long, default_value = "content", value_name = "DIR")]
    pub content: PathBuf,
    /// Directory for ID-flyer-a4.pdf and ID-flyer-card.pdf (created if missing).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
    /// A Japanese OpenType/TrueType font (.otf, .ttf, .ttc) instead of the one found on the
    /// machine (Noto Sans CJK JP, Hiragino, Yu Gothic, Meiryo).
    #[arg(long, value_name = "PATH")]
    pub font: Option<PathBuf>,
    /// The face to use in a font collection (.ttc) given with --font.
    #[arg(long, default_value_t = 0, value_name = "N", requires = "font")]
    pub font_index: u32,
}

/// The town's record, or the error a clerk can act on.
async fn municipality(ops: &Ops, id: &MunicipalityId) -> anyhow::Result<Municipality> {
    let directory = compose::municipalities(&ops.config, &ops.clients);
    directory.get(id).await?.with_context(|| {
        format!(
            "{id} は登録されていません（`kizuna municipality list` で確認できます） / {id} is not \
             a registered municipality (see `kizuna municipality list`)"
        )
    })
}

/// Writes `url`'s QR code to `path`, as SVG if the name ends in .svg, else as PNG.
pub fn write_qr(url: &str, path: &Path) -> anyhow::Result<()> {
    let qr = QrMatrix::encode(url)?;
    let is_svg = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    let bytes = if is_svg {
        qr.to_svg().into_bytes()
    } else {
        qr.to_png(PNG_MODULE_PX)
    };
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

pub async fn qr(ops: &Ops, args: &QrArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let m = municipality(ops, &args.id).await?;
    let url = add_friend::add_friend_url(&m)?;
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-line-qr.png", args.id)));
    write_qr(&url, &path)?;
    writeln!(out, "add-friend URL: {url}")?;
    writeln!(out, "QR code:        {}", path.display())?;
    Ok(ExitCode::SUCCESS)
}

/// The files `flyer` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlyerFiles {
    pub a4: PathBuf,
    pub card: PathBuf,
}

/// The flyer and the card for `m` with the content pack `library` (no AWS: what the command
/// does once it has read the record).
pub fn make_flyer(
    m: &Municipality,
    library: &ContentLibrary,
    fonts: &Fonts,
    out_dir: &Path,
) -> anyhow::Result<FlyerFiles> {
    let id = &m.id;
    let basic_id = add_friend::basic_id_of(m)?;
    let url = basic_id.add_friend_url();
    let Some(privacy_url) = m.privacy_url.as_deref() else {
        bail!(
            "{id} のプライバシーポリシーのURLが記録されていません。チラシには必ず載せます。\
             `kizuna municipality add {id} --name … --hour … --privacy-url https://…` で記録して\
             ください。 / {id} has no privacy policy URL, which the flyer must show: record it \
             with `kizuna municipality add {id} --name … --hour … --privacy-url https://…`"
        );
    };
    if !library.has_municipality(id) {
        bail!(
            "コンテンツに municipalities/{id}/municipality.toml がありません（町の名前・\
             こども家庭センター・連絡先をチラシに載せます） / the content pack has no \
             municipalities/{id}/municipality.toml: the flyer prints the town's display_name, \
             kodomo_center and [contact] from it"
        );
    }
    let content = library.for_municipality(id);
    let town = content.town();
    if town.contact == FALLBACK_CONTACT || town.center == FALLBACK_CENTER {
        bail!(
            "municipalities/{id}/municipality.toml に kodomo_center と [contact]（name, phone, \
             hours）を書いてください。チラシの問い合わせ先になります。 / add kodomo_center and \
             [contact] (name, phone, hours) to municipalities/{id}/municipality.toml: the \
             flyer prints them as the town's contact"
        );
    }
    let input = FlyerInput {
        facts: TownFacts {
            town,
            delivery_hour: m.delivery_hour,
            privacy_url,
            basic_id: basic_id.as_str(),
            child_schedule: library.schedule(),
        },
        add_friend_url: &url,
    };
    let a4 = render_flyer(&input, fonts)?;
    let card = render_card(&input, fonts)?;
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let files = FlyerFiles {
        a4: out_dir.join(format!("{id}-flyer-a4.pdf")),
        card: out_dir.join(format!("{id}-flyer-card.pdf")),
    };
    std::fs::write(&files.a4, a4).with_context(|| format!("writing {}", files.a4.display()))?;
    std::fs::write(&files.card, card)
        .with_context(|| format!("writing {}", files.card.display()))?;
    Ok(files)
}

/// The content pack, or its first errors.
pub fn load_content(dir: &Path) -> anyhow::Result<ContentLibrary> {
    ContentLibrary::load_dir(dir).map_err(|diagnostics| {
        let first: Vec<String> = diagnostics
            .iter()
            .take(5)
            .map(ToString::to_string)
            .collect();
        anyhow::anyhow!(
            "{} error(s) in {} (run `kizuna content check`):\n{}",
            diagnostics.len(),
            dir.display(),
            first.join("\n")
        )
    })
}

pub async fn flyer(ops: &Ops, args: &FlyerArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    // Fonts and content first: they fail without touching AWS.
    let fonts = Fonts::load(args.font.as_deref(), args.font_index)?;
    let library = load_content(&args.content)?;
    let m = municipality(ops, &args.id).await?;
    let files = make_flyer(&m, &library, &fonts, &args.out)?;
    writeln!(out, "flyer (A4):  {}", files.a4.display())?;
    writeln!(
        out,
        "card (91×55 mm, for the 母子健康手帳): {}",
        files.card.display()
    )?;
    writeln!(
        out,
        "font: {} (face {}); print at 100 % (no \"fit to page\")",
        fonts.regular.location.path.display(),
        fonts.regular.location.index
    )?;
    if library.is_sample() {
        writeln!(
            out,
            "note: {} is a SAMPLE content pack; the contact printed is its sample's",
            args.content.display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
