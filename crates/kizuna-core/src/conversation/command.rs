//! The words a parent types (or a quick-reply button types for them).
//!
//! Matching is exact after trimming, removing spaces, folding full-width ASCII to half-width
//! and lower-casing ASCII, so `　ヘルプ　`, `ﾍﾙﾌﾟ` and `my registration` work but a sentence that
//! merely contains a command word does not: in a shared account such a sentence is probably
//! meant for someone else. Every language's words are recognised whatever the parent's
//! stored language (see `texts::parse_command`).

use super::texts;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// 登録内容: show the registrations.
    Show,
    /// 変更: change a registration's date.
    Change,
    /// 生まれました: report a birth.
    Born,
    /// 追加: add another child or pregnancy.
    Add,
    /// 停止: pause the household.
    Pause,
    /// 再開: resume the household.
    Resume,
    /// 削除: delete all data (asks first).
    Delete,
    /// 削除する: the answer to the delete question (asks first when nothing was asked).
    DeleteConfirm,
    /// 配信をすべて終了: end every registration, for whatever reason (asks first).
    EndAll,
    /// やめておく: the "no" to a pending question.
    Cancel,
    /// ヘルプ.
    Help,
    /// 個人情報: the privacy notice, and the parent's consent to it.
    Privacy,
    /// 今日のメッセージ: today's planned message (or the latest one), as a reply.
    Today,
    /// 登録: start registering (the privacy notice first, until the parent has agreed).
    Register,
    /// 言語 / language: choose the language of replies and messages.
    Language,
}

impl Command {
    /// Commands that work whatever the parent's consent: stopping, erasing, reading the
    /// notice and help must never wait for an answer to a consent question.
    pub fn works_without_consent(self) -> bool {
        matches!(
            self,
            Command::Pause
                | Command::Delete
                | Command::DeleteConfirm
                | Command::EndAll
                | Command::Cancel
                | Command::Help
                | Command::Privacy
                | Command::Language
        )
    }
}

impl Command {
    pub fn parse(text: &str) -> Option<Command> {
        texts::parse_command(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_match_exactly_after_folding() {
        assert_eq!(Command::parse("ヘルプ"), Some(Command::Help));
        assert_eq!(Command::parse("　ヘルプ \n"), Some(Command::Help));
        assert_eq!(Command::parse("ﾍﾙﾌﾟ"), Some(Command::Help));
        assert_eq!(Command::parse("登録 内容"), Some(Command::Show));
        assert_eq!(Command::parse("産まれました"), Some(Command::Born));
        assert_eq!(Command::parse("配信をすべて終了"), Some(Command::EndAll));
        assert_eq!(Command::parse("配信を全て停止"), Some(Command::EndAll));
        assert_eq!(Command::parse("個人情報"), Some(Command::Privacy));
        assert_eq!(Command::parse("個人情報の取り扱い"), Some(Command::Privacy));
        assert_eq!(Command::parse("プライバシー"), Some(Command::Privacy));
        assert_eq!(Command::parse("登録"), Some(Command::Register));
        assert_eq!(Command::parse("今日のメッセージ"), Some(Command::Today));
        assert_eq!(
            Command::parse(" 今日の メッセージ を見る　"),
            Some(Command::Today)
        );
        assert_eq!(Command::parse("きょうのメッセージ"), Some(Command::Today));
        assert_eq!(Command::parse("今日のお便り"), Some(Command::Today));
        assert_eq!(Command::parse("今日の配信"), Some(Command::Today));
        assert_eq!(Command::parse("今日のﾒｯｾｰｼﾞ"), Some(Command::Today));
        assert_eq!(Command::parse("今日のメッセージが届かない"), None);
        assert_eq!(Command::parse("ヘルプを見たい"), None);
        assert_eq!(Command::parse("個人情報について教えて"), None);
        assert_eq!(Command::parse("停止してほしい"), None);
        assert_eq!(Command::parse(""), None);
        assert_eq!(Command::parse("Help"), Some(Command::Help));
        assert_eq!(Command::parse("my registration"), Some(Command::Show));
        assert_eq!(Command::parse("ＳＴＯＰ"), Some(Command::Pause));
        assert_eq!(Command::parse("Baby born"), Some(Command::Born));
        assert_eq!(Command::parse("language"), Some(Command::Language));
        assert_eq!(Command::parse("言語"), Some(Command::Language));
        assert_eq!(Command::parse("げんご"), Some(Command::Language));
        assert_eq!(Command::parse("さいかい"), Some(Command::Resume));
        assert_eq!(Command::parse("please help"), None);
        assert_eq!(Command::parse("stop it"), None);
    }
}
