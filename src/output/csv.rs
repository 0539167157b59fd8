//! CSV as spreadsheets read it.
use super::escape::neutralise_csv_cell;
use super::OutputError;

/// CSV with a header, CRLF line ends and every cell neutralised against formula injection.
pub fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<Vec<u8>, OutputError> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    out.write_record(header).map_err(OutputError::Csv)?;
    for row in rows {
        out.write_record(row.iter().map(|c| neutralise_csv_cell(c))).map_err(OutputError::Csv)?;
    }
    out.into_inner().map_err(|e| OutputError::Csv(e.into_error().into()))
}
