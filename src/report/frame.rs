//! Reading snapshot tables into plain rows: the report works on small, typed Rust values, and
//! polars stays behind this file.
use chrono::{DateTime, Utc};
use polars::prelude::*;

use super::ReportError;

pub struct Rows {
    table: String,
    df: DataFrame,
}

impl Rows {
    pub fn new(table: &str, df: DataFrame) -> Self {
        Rows { table: table.to_owned(), df }
    }

    pub fn len(&self) -> usize {
        self.df.height()
    }

    fn column(&self, name: &str) -> Result<&Column, ReportError> {
        self.df.column(name).map_err(|_| ReportError::Data(format!("table {} has no column {name}", self.table)))
    }

    pub fn str(&self, name: &str) -> Result<Vec<Option<String>>, ReportError> {
        let c = self.column(name)?;
        let s = c
            .as_materialized_series()
            .cast(&DataType::String)
            .map_err(|e| ReportError::Data(format!("{}.{name}: {e}", self.table)))?;
        Ok(s.str().map_err(|e| ReportError::Data(e.to_string()))?.iter().map(|v| v.map(str::to_owned)).collect())
    }

    pub fn string(&self, name: &str) -> Result<Vec<String>, ReportError> {
        Ok(self.str(name)?.into_iter().map(Option::unwrap_or_default).collect())
    }

    pub fn bool(&self, name: &str) -> Result<Vec<Option<bool>>, ReportError> {
        let c = self.column(name)?;
        Ok(c.as_materialized_series()
            .bool()
            .map_err(|e| ReportError::Data(format!("{}.{name}: {e}", self.table)))?
            .iter()
            .collect())
    }

    pub fn time(&self, name: &str) -> Result<Vec<Option<DateTime<Utc>>>, ReportError> {
        let c = self.column(name)?;
        let ms = c
            .as_materialized_series()
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .and_then(|s| s.cast(&DataType::Int64))
            .map_err(|e| ReportError::Data(format!("{}.{name}: {e}", self.table)))?;
        Ok(ms
            .i64()
            .map_err(|e| ReportError::Data(e.to_string()))?
            .iter()
            .map(|v| v.and_then(DateTime::<Utc>::from_timestamp_millis))
            .collect())
    }

    pub fn list(&self, name: &str) -> Result<Vec<Vec<String>>, ReportError> {
        let c = self.column(name)?;
        let list = c
            .as_materialized_series()
            .list()
            .map_err(|e| ReportError::Data(format!("{}.{name}: {e}", self.table)))?
            .clone();
        Ok((0..list.len())
            .map(|i| {
                list.get_as_series(i)
                    .and_then(|s| s.cast(&DataType::String).ok())
                    .map(|s| s.str().map(|ca| ca.iter().flatten().map(str::to_owned).collect()).unwrap_or_default())
                    .unwrap_or_default()
            })
            .collect())
    }
}
