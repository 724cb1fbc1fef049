//! The words a parent types (or a quick-reply button types for them).
//!
//! Matching is exact after trimming, removing spaces, folding full-width ASCII to half-width
//! and lower-casing ASCII, so `　ヘルプ　`, `ﾍﾙﾌﾟ` and `my registration` work but a sentence that
//! merely contains a command word does not: in a shared account such a sentence is probably
//! meant for someone else. Every language's words are recognised whatever the parent's
//! stored language. The words live with each language's texts, which is where
//! [`Command::parse`] is implemented (`texts/mod.rs`): this module depends on nothing else in
//! the conversation, and the texts depend on it, never the other way round.

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
    /// アンケート: the open surveys the parent may answer, each with a button.
    Survey,
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
