//! Reading an import file without ever holding it whole: the scan that refuses a file
//! before anything is written, and the record reader that feeds the chunks.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{check_text, Line, LineRefusal};
use crate::domain::text::{forbidden_character, LineBreaks};
use crate::service::ServiceError;

/// The longest line read, in bytes (a family with twenty members is well under 4 KiB).
pub const LINE_BYTES_MAX: usize = 64 * 1024;

/// Separators a file written for another locale uses instead of commas.
const OTHER_SEPARATORS: [char; 3] = [';', '\t', '|'];

/// What the scan found in a file it accepts.
#[derive(Debug)]
pub struct ScannedFile {
    /// SHA-256 of its bytes, hex.
    pub digest: String,
    /// Lines after the header that are not blank.
    pub data_lines: i64,
}

/// Reads the file once, line by line: its digest, UTF-8 throughout, no control character
/// (line breaks aside) or bidirectional override, no line longer than [`LINE_BYTES_MAX`],
/// and a header with exactly `columns`.
pub fn scan(path: &Path, columns: &[&str]) -> Result<ScannedFile, ServiceError> {
    let file =
        File::open(path).map_err(|error| ServiceError::ImportFileInvalid(format!("opening the file: {error}")))?;
    let mut reader = BufReader::new(file);
    let mut hasher = Sha256::new();
    let mut line = Vec::new();
    let mut number: i64 = 0;
    let mut data_lines: i64 = 0;
    loop {
        line.clear();
        let limit = u64::try_from(LINE_BYTES_MAX).unwrap_or(u64::MAX).saturating_add(1);
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut line)
            .map_err(|error| ServiceError::ImportFileInvalid(format!("reading the file: {error}")))?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.len() > LINE_BYTES_MAX {
            return Err(ServiceError::ImportFileInvalid(format!(
                "line {number} is longer than {LINE_BYTES_MAX} bytes"
            )));
        }
        hasher.update(&line);
        let text = std::str::from_utf8(&line).map_err(|_| {
            ServiceError::ImportFileInvalid(format!(
                "line {number} is not UTF-8 text: save the file as CSV UTF-8 (Excel: \"CSV UTF-8\")"
            ))
        })?;
        if let Some(character) = forbidden_character(text, LineBreaks::Allowed) {
            return Err(ServiceError::CharacterNotAllowed(format!("line {number} contains {character}")));
        }
        if number == 1 {
            Columns::of_header_line(text, columns)?;
        } else if !text.trim().is_empty() {
            data_lines += 1;
        }
    }
    if number == 0 {
        return Err(ServiceError::ImportFileInvalid(format!(
            "the file is empty: its first line names the columns {}",
            columns.join(",")
        )));
    }
    Ok(ScannedFile { digest: hex::encode(hasher.finalize()), data_lines })
}

/// Where each of the importer's columns is in the file's header.
#[derive(Debug)]
struct Columns {
    positions: Vec<usize>,
}

impl Columns {
    fn of_header_line(line: &str, columns: &[&str]) -> Result<Self, ServiceError> {
        let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
        let header = reader
            .records()
            .next()
            .transpose()
            .map_err(|error| ServiceError::ImportFileInvalid(format!("line 1: {error}")))?
            .unwrap_or_default();
        Self::of(&header, columns)
    }

    fn of(header: &csv::StringRecord, columns: &[&str]) -> Result<Self, ServiceError> {
        let names: Vec<&str> = header.iter().map(|name| name.trim().trim_start_matches('\u{feff}').trim()).collect();
        let expected = columns.join(",");
        if let [only] = names.as_slice() {
            if let Some(separator) = OTHER_SEPARATORS.iter().find(|separator| only.contains(**separator)) {
                return Err(ServiceError::ImportFileInvalid(format!(
                    "the file is separated by {separator:?}, not by commas: its header is {expected}"
                )));
            }
        }
        let missing: Vec<&str> = columns.iter().filter(|column| !names.contains(column)).copied().collect();
        if !missing.is_empty() {
            return Err(ServiceError::ImportFileInvalid(format!(
                "missing column(s) {}: the header is {expected}",
                missing.join(", ")
            )));
        }
        let unknown: Vec<&str> = names.iter().filter(|name| !columns.contains(name)).copied().collect();
        if !unknown.is_empty() {
            return Err(ServiceError::ImportFileInvalid(format!(
                "unknown column(s) {}: the header is {expected}",
                unknown.join(", ")
            )));
        }
        if names.len() != columns.len() {
            return Err(ServiceError::ImportFileInvalid(format!("a column appears twice: the header is {expected}")));
        }
        let positions = columns.iter().filter_map(|column| names.iter().position(|name| name == column)).collect();
        Ok(Self { positions })
    }
}

/// The file's records, a chunk at a time.
pub struct Lines {
    records: csv::StringRecordsIntoIter<File>,
    columns: Columns,
    names: &'static [&'static str],
}

impl Lines {
    /// Opens the file past its header and past the `lines_done` records a run wrote already.
    pub fn open(path: &Path, names: &'static [&'static str], lines_done: i64) -> Result<Self, ServiceError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|error| ServiceError::ImportFileInvalid(format!("opening the file: {error}")))?;
        let header =
            reader.headers().map_err(|error| ServiceError::ImportFileInvalid(format!("line 1: {error}")))?.clone();
        let columns = Columns::of(&header, names)?;
        let mut records = reader.into_records();
        for _ in 0..lines_done {
            if records.next().is_none() {
                break;
            }
        }
        Ok(Self { records, columns, names })
    }

    /// Up to `size` lines read in full, and the lines of the same stretch refused as
    /// unreadable (a field count other than the header's, a control character).
    pub fn next_chunk(&mut self, size: usize) -> Result<(Vec<Line>, Vec<LineRefusal>), ServiceError> {
        let mut lines = Vec::with_capacity(size);
        let mut refused = Vec::new();
        for _ in 0..size {
            let Some(record) = self.records.next() else { break };
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    let line = error.position().map_or(0, |position| i64::try_from(position.line()).unwrap_or(0));
                    refused.push(LineRefusal::of(line, &ServiceError::Invalid("the line cannot be read".to_owned())));
                    continue;
                }
            };
            let number = record.position().map_or(0, |position| i64::try_from(position.line()).unwrap_or(0));
            match self.line_of(number, &record) {
                Ok(line) => lines.push(line),
                Err(error) => refused.push(LineRefusal::of(number, &error)),
            }
        }
        Ok((lines, refused))
    }

    fn line_of(&self, number: i64, record: &csv::StringRecord) -> Result<Line, ServiceError> {
        if record.len() != self.columns.positions.len() {
            return Err(ServiceError::Invalid(format!(
                "{} fields where the header has {}",
                record.len(),
                self.columns.positions.len()
            )));
        }
        let mut fields = Vec::with_capacity(self.names.len());
        for (name, position) in self.names.iter().zip(&self.columns.positions) {
            let field = record.get(*position).unwrap_or_default();
            check_text(name, field)?;
            fields.push(field.to_owned());
        }
        Ok(Line { number, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(line: &str) -> Result<Columns, ServiceError> {
        Columns::of_header_line(line, &["code", "name"])
    }

    #[test]
    fn a_header_may_name_its_columns_in_any_order_with_a_byte_order_mark() {
        assert_eq!(header("name,code").map(|columns| columns.positions).ok(), Some(vec![1, 0]));
        assert!(header("\u{feff}code,name\r\n").is_ok());
    }

    #[test]
    fn a_missing_unknown_or_doubled_column_or_another_separator_refuses_the_file() {
        for line in ["code", "code,name,extra", "code,code", "code;name", "code\tname"] {
            assert!(matches!(header(line), Err(ServiceError::ImportFileInvalid(_))), "{line}");
        }
    }
}
