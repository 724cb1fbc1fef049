//! A small complete content pack written into a directory, so that the CLI tests do not depend
//! on the wording of the repository's sample pack (which editors rewrite). Every text is
//! different and short, so `content check` finds nothing in it; broken fixtures are laid over
//! it. Layout: child day N (0–100) starts at line 5N + 1 of base/child.toml; scheduled day S
//! (103, 133, … 1093) at line 505 + 5(S − 103)/30 + 1; maternity gestational day G has its
//! `stage` on line 3(G − 28) + 2 of base/maternity.toml.
#![allow(dead_code)]

use std::path::Path;

pub const SCHEDULE: &str = "[[child_schedule]]\nfrom_day = 103\nto_day = 1093\nevery_days = 30\n";

pub fn write_pack(dir: &Path) {
    let mut maternity = String::new();
    for day in 28..=293u16 {
        maternity.push_str(&format!(
            "[[maternity]]\nstage = \"{}w{}d\"\ntext = \"{{week}}週{{day}}日の{day}\"\n",
            day / 7,
            day % 7
        ));
    }
    let mut child = String::new();
    for day in (0..=100).chain((103..=1093).step_by(30)) {
        child.push_str(&format!(
            "[[child]]\nday = {day}\ntext = \"\"\"\n{{child}}と（{day}）\"\"\"\n\n"
        ));
    }
    let mut other = String::from("[closing]\ntext = \"\"\"\nおしまい\"\"\"\n");
    for age in 1..=3 {
        other.push_str(&format!(
            "\n[[birthday]]\nage = {age}\ntext = \"\"\"\n{{child}}の{age}歳\"\"\"\n"
        ));
    }
    let files = [
        (
            "base/pack.toml",
            format!("id = \"fixture\"\nversion = \"1\"\nsample = true\n\n{SCHEDULE}"),
        ),
        ("base/maternity.toml", maternity),
        ("base/child.toml", child),
        ("base/closing-and-birthdays.toml", other),
        (
            "municipalities/kizuna-town/municipality.toml",
            "display_name = \"きずな町\"\nkodomo_center = \"きずな町こども家庭センター\"\n\n[contact]\nname = \"きずな町保健センター\"\nphone = \"000-000-0000\"\nhours = \"平日 8時30分〜17時15分\"\n".to_owned(),
        ),
        (
            "municipalities/kizuna-town/notes.toml",
            "[[note]]\nid = \"class\"\nstages = [\"20w0d\", \"23w6d\"]\ntext = \"\"\"\n教室のご案内です。\"\"\"\n\n[[note]]\nid = \"festa\"\ndates = [2027-05-01, 2027-05-31]\ntext = \"\"\"\nこどもフェスタのご案内です。\"\"\"\n".to_owned(),
        ),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}
