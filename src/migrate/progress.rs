//! What the runner tells the user while it works: progress on stdout (Prisma-style lines),
//! findings and failures on stderr. It prints as it goes because a deploy can stop half way
//! (a signal, a lost connection): what ran must already be on screen by then.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::findings::Report;

/// Progress on stdout. Write errors are ignored: a reader that went away (`deploy | head -1`)
/// must neither stop a deploy half way nor turn its outcome into a failure.
pub fn say_line(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if LINE_OPEN.swap(false, Ordering::Relaxed) {
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{line}");
}

/// A line on stderr (findings, warnings, what failed), with write errors ignored for the same
/// reason as [`say_line`]: `deploy 2>&1 | head -1` must not stop a deploy half way.
pub fn complain_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Start a progress line that [`end_line`] completes (`Applying migration `x`` … ` (12 ms)`).
pub fn begin_line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "{text}");
    let _ = out.flush();
    LINE_OPEN.store(true, Ordering::Relaxed);
}

/// Complete the line [`begin_line`] started; when other lines came in between (retries), the
/// outcome gets a line of its own, `again` followed by `suffix`.
pub fn end_line(again: &str, suffix: &str) {
    if LINE_OPEN.swap(false, Ordering::Relaxed) {
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), "{suffix}");
    } else {
        say_line(&format!("{again}{suffix}"));
    }
}

static LINE_OPEN: AtomicBool = AtomicBool::new(false);

/// [`say_line`] with `format!` arguments.
#[macro_export]
macro_rules! say {
    () => { $crate::migrate::progress::say_line("") };
    ($($arg:tt)*) => { $crate::migrate::progress::say_line(&format!($($arg)*)) };
}

/// [`complain_line`] with `format!` arguments.
#[macro_export]
macro_rules! complain {
    ($($arg:tt)*) => { $crate::migrate::progress::complain_line(&format!($($arg)*)) };
}

/// Error-level findings, one block each, as a reviewer reads them.
pub fn print_findings(report: &Report) {
    for finding in &report.findings {
        crate::complain!(
            "{}[{}] {}:{}:{}: {}",
            finding.severity.as_str(),
            finding.rule,
            finding.file,
            finding.line,
            finding.column,
            finding.message
        );
        if !finding.help.is_empty() {
            crate::complain!("  help: {}", finding.help);
        }
    }
    for allowed in &report.allowed {
        crate::complain!(
            "allowed[{}] {}:{}: {} (allowed at line {}: {})",
            allowed.rule,
            allowed.file,
            allowed.line,
            allowed.message,
            allowed.allow_line,
            allowed.reason
        );
    }
}

/// A migration's duration as the progress lines show it (`12 ms`, `1.50 s`).
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}
