//! The terminal's keypad and screen: prompts on stdout, answers from stdin. A PIN is
//! typed hidden when stdin is a terminal; from a script (a pipe or a file) it is read as
//! a plain line and shown as stars, so a session can be driven by scripted input.

use std::io::{BufRead, IsTerminal as _, Read as _, Write};

use anyhow::Context as _;

/// The longest line read from the keypad.
const LINE_BYTES_MAX: u64 = 4096;

pub struct Console {
    input: Box<dyn BufRead>,
    output: Box<dyn Write>,
    /// A person at a terminal (not a script).
    interactive: bool,
    /// The input has ended (end of file, or the person closed it).
    ended: bool,
}

impl Console {
    pub fn stdio() -> Self {
        let stdin = std::io::stdin();
        let interactive = stdin.is_terminal();
        Self { input: Box::new(stdin.lock()), output: Box::new(std::io::stdout()), interactive, ended: false }
    }

    /// Whether the input has ended: nothing more will be typed.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// Prints a line on the screen.
    pub fn say(&mut self, line: &str) -> anyhow::Result<()> {
        writeln!(self.output, "{line}").context("writing to the screen")
    }

    /// Asks and reads one line, trimmed; `None` when the input has ended.
    pub fn ask(&mut self, prompt: &str) -> anyhow::Result<Option<String>> {
        write!(self.output, "{prompt}").context("writing to the screen")?;
        self.output.flush().context("writing to the screen")?;
        let answer = self.read_line()?;
        if !self.interactive {
            // A script's answer is not echoed by a terminal: show it, so a transcript reads
            // like the screen a person would have seen.
            writeln!(self.output, "{}", answer.as_deref().unwrap_or("")).context("writing to the screen")?;
        }
        Ok(answer)
    }

    /// Asks for a secret (a PIN, a password): hidden at a terminal.
    pub fn ask_secret(&mut self, prompt: &str) -> anyhow::Result<Option<String>> {
        if self.interactive {
            self.output.flush().context("writing to the screen")?;
            return match rpassword::prompt_password(prompt) {
                Ok(secret) => Ok(Some(secret.trim().to_owned())),
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.ended = true;
                    Ok(None)
                }
                Err(error) => Err(error).context("reading a hidden answer"),
            };
        }
        write!(self.output, "{prompt}").context("writing to the screen")?;
        let answer = self.read_line()?;
        let stars = answer.as_deref().map(|secret| "*".repeat(secret.chars().count())).unwrap_or_default();
        writeln!(self.output, "{stars}").context("writing to the screen")?;
        Ok(answer)
    }

    fn read_line(&mut self) -> anyhow::Result<Option<String>> {
        let mut line = String::new();
        let read = (&mut self.input).take(LINE_BYTES_MAX).read_line(&mut line).context("reading the keypad")?;
        if read == 0 {
            self.ended = true;
            return Ok(None);
        }
        Ok(Some(line.trim().to_owned()))
    }
}
