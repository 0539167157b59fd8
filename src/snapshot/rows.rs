//! Reading a table into plain rows: the stages after analyze (report, diff, certify, plan) work on
//! small, typed Rust values, and polars stays behind this file.
use chrono::{DateTime, Utc};
use polars::prelude::*;

use super::SnapshotError;

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

    pub fn is_empty(&self) -> bool {
        self.df.height() == 0
    }

    fn bad(&self, column: &str) -> impl FnOnce(PolarsError) -> SnapshotError {
        let (table, column) = (self.table.clone(), column.to_owned());
        move |source| SnapshotError::Column { table, column, source }
    }

    fn column(&self, name: &str) -> Result<&Column, SnapshotError> {
        self.df.column(name).map_err(|_| SnapshotError::NoColumn { table: self.table.clone(), column: name.to_owned() })
    }

    pub fn str(&self, name: &str) -> Result<Vec<Option<String>>, SnapshotError> {
        let s = self.column(name)?.as_materialized_series().cast(&DataType::String).map_err(self.bad(name))?;
        Ok(s.str().map_err(self.bad(name))?.iter().map(|v| v.map(str::to_owned)).collect())
    }

    pub fn string(&self, name: &str) -> Result<Vec<String>, SnapshotError> {
        Ok(self.str(name)?.into_iter().map(Option::unwrap_or_default).collect())
    }

    pub fn bool(&self, name: &str) -> Result<Vec<Option<bool>>, SnapshotError> {
        Ok(self.column(name)?.as_materialized_series().bool().map_err(self.bad(name))?.iter().collect())
    }

    pub fn time(&self, name: &str) -> Result<Vec<Option<DateTime<Utc>>>, SnapshotError> {
        let ms = self
            .column(name)?
            .as_materialized_series()
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .and_then(|s| s.cast(&DataType::Int64))
            .map_err(self.bad(name))?;
        Ok(ms
            .i64()
            .map_err(self.bad(name))?
            .iter()
            .map(|v| v.and_then(DateTime::<Utc>::from_timestamp_millis))
            .collect())
    }

    pub fn list(&self, name: &str) -> Result<Vec<Vec<String>>, SnapshotError> {
        let list = self.column(name)?.as_materialized_series().list().map_err(self.bad(name))?.clone();
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
