//! Workflows' rules, without I/O: the placeholders of a step's text fields, and what a run does
//! step by step and says at the end.
//!
//! - A text field may hold `{{input.NAME}}` (a value of the run's `input`), `{{lastTask.id}}` and
//!   `{{lastTask.title}}` (the last task an earlier step of the same run created or updated).
//!   Blanks inside the braces are allowed. Anything else between `{{` and `}}`, or a `{{` never
//!   closed, is refused when the workflow is saved, so a run only meets a missing value.
//! - Steps run in order. The first failure stops the run: later steps are not run, and what the
//!   earlier steps made stays. A step that would start after the run's time limit fails as such
//!   (a step that has started is never cut short, so its outcome is always known).
use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;

/// The most steps a workflow holds.
pub const MAX_STEPS: usize = 20;
/// How long a run may go on starting steps.
pub const RUN_TIME_LIMIT: Duration = Duration::from_secs(10);
/// An input name: what `{{input.NAME}}` may say.
pub const INPUT_NAME_PATTERN: &str = r"^[A-Za-z0-9_-]{1,64}$";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece<'a> {
    Text(&'a str),
    Input(&'a str),
    LastTaskId,
    LastTaskTitle,
}

pub fn is_input_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The template's literal text and placeholders, in order; why not, if a placeholder is malformed.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("a `{{` is never closed with `}}`: placeholders are {{input.NAME}}, {{lastTask.id}} and {{lastTask.title}}.".into());
        };
        let inner = after[..close].trim();
        out.push(match inner {
            "lastTask.id" => Piece::LastTaskId,
            "lastTask.title" => Piece::LastTaskTitle,
            _ => match inner.strip_prefix("input.") {
                Some(name) if is_input_name(name) => Piece::Input(name),
                _ => {
                    return Err(format!(
                        "{{{{{inner}}}}} is not a placeholder: use {{{{input.NAME}}}} (NAME of letters, digits, _ and -), {{{{lastTask.id}}}} or {{{{lastTask.title}}}}."
                    ));
                }
            },
        });
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

/// What a template needs from a run.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The input names it uses, sorted, once each.
    pub inputs: Vec<String>,
    pub last_task: bool,
}

impl Needs {
    /// Whether it is plain text, the same in every run.
    pub fn is_literal(&self) -> bool {
        self.inputs.is_empty() && !self.last_task
    }
}

/// Checks a template when its workflow is saved: its placeholders, and that `{{lastTask…}}`
/// comes after a step that can set it (`last_task_possible`).
pub fn check(template: &str, last_task_possible: bool) -> Result<Needs, String> {
    let mut needs = Needs::default();
    for piece in pieces(template)? {
        match piece {
            Piece::Text(_) => {}
            Piece::Input(name) => needs.inputs.push(name.to_owned()),
            Piece::LastTaskId | Piece::LastTaskTitle => needs.last_task = true,
        }
    }
    if needs.last_task && !last_task_possible {
        return Err("{{lastTask…}} needs an earlier create_task or update_task step: no task is set before this step.".into());
    }
    needs.inputs.sort();
    needs.inputs.dedup();
    Ok(needs)
}

/// The last task an earlier step of the run created or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastTask {
    pub id: Uuid,
    pub title: String,
}

/// The template with its placeholders filled; why not (a missing input, no task yet, or a
/// malformed placeholder) as a sentence for the step's outcome.
pub fn render(template: &str, input: &BTreeMap<String, String>, last_task: Option<&LastTask>) -> Result<String, String> {
    let no_task = || "{{lastTask…}} has no value: no earlier step of this run created or updated a task.".to_owned();
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Input(name) => match input.get(name) {
                Some(value) => out.push_str(value),
                None => return Err(format!("the input `{name}` is missing: pass it in run_workflow's `input`.")),
            },
            Piece::LastTaskId => out.push_str(&last_task.ok_or_else(no_task)?.id.to_string()),
            Piece::LastTaskTitle => out.push_str(&last_task.ok_or_else(no_task)?.title),
        }
    }
    Ok(out)
}

/// What a workflow step made or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Task,
    Note,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Task => "task",
            ItemKind::Note => "note",
        }
    }
}

/// How one step of a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It made (`created`) or changed this item.
    Ok { kind: ItemKind, id: Uuid, created: bool },
    /// It failed, for this reason; nothing of it was written.
    Failed(String),
    /// An earlier step failed.
    NotRun,
}

/// What to do with the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Run,
    /// Fail it with this reason: the run is out of time.
    Fail(String),
    /// Leave it: an earlier step failed.
    Skip,
}

/// The next step's fate, given the outcomes so far and how long the run has gone on.
pub fn next(outcomes: &[Outcome], elapsed: Duration, limit: Duration) -> Next {
    if outcomes.iter().any(|o| !matches!(o, Outcome::Ok { .. })) {
        Next::Skip
    } else if elapsed >= limit {
        Next::Fail(format!("time limit: the run went on for more than {} seconds, so this step was not started.", limit.as_secs()))
    } else {
        Next::Run
    }
}

/// The 1-based number of the step that failed, if one did.
pub fn failed_step(outcomes: &[Outcome]) -> Option<usize> {
    outcomes.iter().position(|o| matches!(o, Outcome::Failed(_))).map(|i| i + 1)
}

/// The run's result in a sentence: whether it succeeded, which step failed and why, what was made
/// and kept, and which steps were not run.
pub fn summary(outcomes: &[Outcome]) -> String {
    let made: Vec<String> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Ok { kind, id, created: true } => Some(format!("{} {id}", kind.as_str())),
            _ => None,
        })
        .collect();
    let made_text = if made.is_empty() { "nothing".to_owned() } else { made.join(", ") };
    let Some(failed) = failed_step(outcomes) else {
        return format!("All {} steps succeeded; made {made_text}.", outcomes.len());
    };
    let reason = match &outcomes[failed - 1] {
        Outcome::Failed(reason) => reason.as_str(),
        _ => "",
    };
    let mut text = format!("Step {failed} of {} failed: {reason}", outcomes.len());
    if failed > 1 {
        let kept = if made.is_empty() { "made nothing".to_owned() } else { format!("made {made_text}, which is kept") };
        text.push_str(&format!(" The steps before it {kept}."));
    }
    let not_run = outcomes.len() - failed;
    match not_run {
        0 => {}
        1 => text.push_str(&format!(" Step {} was not run.", failed + 1)),
        _ => text.push_str(&format!(" Steps {}–{} were not run.", failed + 1, outcomes.len())),
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn placeholders_are_filled_from_the_input_and_the_last_task() {
        let task = LastTask { id: Uuid::nil(), title: "Write".into() };
        let got =
            render("Review {{input.what}} after {{ lastTask.title }} ({{lastTask.id}})", &input(&[("what", "the post")]), Some(&task));
        assert_eq!(got.as_deref(), Ok("Review the post after Write (00000000-0000-0000-0000-000000000000)"));
        assert_eq!(render("plain } { }} text", &input(&[]), None).as_deref(), Ok("plain } { }} text"));
        assert_eq!(render("", &input(&[]), None).as_deref(), Ok(""));
        // A value is put in as it is, never read as a template itself.
        assert_eq!(render("{{input.a}}", &input(&[("a", "{{input.b}}")]), None).as_deref(), Ok("{{input.b}}"));
    }

    #[test]
    fn a_missing_value_is_a_clear_error() {
        let err = render("Hi {{input.name}}", &input(&[("other", "x")]), None).unwrap_err();
        assert!(err.contains("`name` is missing"), "{err}");
        let err = render("{{lastTask.id}}", &input(&[]), None).unwrap_err();
        assert!(err.contains("no earlier step"), "{err}");
    }

    #[test]
    fn malformed_placeholders_are_refused_when_saved() {
        for bad in ["{{input.}}", "{{input.a b}}", "{{nope}}", "{{lastTask.due}}", "{{ }}", "open {{input.a", "{{input.é}}"] {
            assert!(check(bad, true).is_err(), "{bad}");
            assert!(render(bad, &input(&[("a", "x")]), None).is_err(), "{bad}");
        }
        let needs = check("{{input.b}} {{input.a}} {{input.b}}", false).unwrap();
        assert_eq!(needs, Needs { inputs: vec!["a".into(), "b".into()], last_task: false });
        assert!(check("no placeholders", false).unwrap().is_literal());
        assert!(!check("{{lastTask.title}}", true).unwrap().is_literal());
        // lastTask before any step that can set it is refused too.
        assert!(check("{{lastTask.title}}", false).unwrap_err().contains("earlier"));
        assert!(is_input_name(&"x".repeat(64)) && !is_input_name(&"x".repeat(65)));
    }

    #[test]
    fn a_run_stops_at_the_first_failure_and_at_the_time_limit() {
        let limit = Duration::from_secs(10);
        let ok = Outcome::Ok { kind: ItemKind::Task, id: Uuid::nil(), created: true };
        assert_eq!(next(&[], Duration::ZERO, limit), Next::Run);
        assert_eq!(next(std::slice::from_ref(&ok), Duration::from_millis(9_999), limit), Next::Run);
        assert!(matches!(next(std::slice::from_ref(&ok), limit, limit), Next::Fail(reason) if reason.starts_with("time limit")));
        assert_eq!(next(&[ok.clone(), Outcome::Failed("x".into())], Duration::ZERO, limit), Next::Skip);
        assert_eq!(next(&[Outcome::Failed("x".into()), Outcome::NotRun], Duration::ZERO, limit), Next::Skip);
    }

    #[test]
    fn the_summary_says_what_failed_what_was_kept_and_what_was_not_run() {
        let task = Outcome::Ok { kind: ItemKind::Task, id: Uuid::nil(), created: true };
        let updated = Outcome::Ok { kind: ItemKind::Task, id: Uuid::max(), created: false };
        let nil = Uuid::nil();
        assert_eq!(summary(&[task.clone(), updated.clone()]), format!("All 2 steps succeeded; made task {nil}."));
        assert_eq!(failed_step(&[task.clone(), updated.clone()]), None);
        let failed = [task.clone(), Outcome::Failed("No task with id x exists.".into()), Outcome::NotRun, Outcome::NotRun];
        assert_eq!(failed_step(&failed), Some(2));
        assert_eq!(
            summary(&failed),
            format!(
                "Step 2 of 4 failed: No task with id x exists. The steps before it made task {nil}, which is kept. Steps 3–4 were not run."
            )
        );
        let first = [Outcome::Failed("bad.".into()), Outcome::NotRun];
        assert_eq!(summary(&first), "Step 1 of 2 failed: bad. Step 2 was not run.");
        let last = [updated, Outcome::Failed("late.".into())];
        assert_eq!(summary(&last), "Step 2 of 2 failed: late. The steps before it made nothing.");
    }
}
