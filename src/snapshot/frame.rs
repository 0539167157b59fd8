//! Typed columns for snapshot tables: every column gets its type from the builder call, so an
//! empty table still has its full schema and outside tools see the same columns every time.
use chrono::{DateTime, Utc};
use polars::prelude::*;

use super::SnapshotError;

#[derive(Default)]
pub struct TableBuilder {
    columns: Vec<Column>,
}

impl TableBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn str<S: AsRef<str>>(mut self, name: &str, values: impl IntoIterator<Item = Option<S>>) -> Self {
        let values: Vec<Option<String>> = values.into_iter().map(|v| v.map(|s| s.as_ref().to_owned())).collect();
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn bool(mut self, name: &str, values: impl IntoIterator<Item = Option<bool>>) -> Self {
        let values: Vec<Option<bool>> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn i64(mut self, name: &str, values: impl IntoIterator<Item = Option<i64>>) -> Self {
        let values: Vec<Option<i64>> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), values));
        self
    }

    pub fn f64(mut self, name: &str, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        let values: Vec<Option<f64>> = values.into_iter().collect();
        self.columns.push(Column::new(name.into(), values));
        self
    }

    /// A UTC timestamp column (`datetime[ms, UTC]`).
    pub fn time(mut self, name: &str, values: impl IntoIterator<Item = Option<DateTime<Utc>>>) -> Self {
        let millis: Vec<Option<i64>> = values.into_iter().map(|v| v.map(|t| t.timestamp_millis())).collect();
        let column = Column::new(name.into(), millis)
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)))
            .unwrap_or_else(|_| Column::new_empty(name.into(), &DataType::Null));
        self.columns.push(column);
        self
    }

    /// A list-of-strings column, built in one pass (a Series per row costs far more memory).
    pub fn list(mut self, name: &str, values: impl IntoIterator<Item = Vec<String>>) -> Self {
        let values: Vec<Vec<String>> = values.into_iter().collect();
        let total: usize = values.iter().map(Vec::len).sum();
        let mut builder = ListStringChunkedBuilder::new(name.into(), values.len(), total);
        for row in &values {
            builder.append_values_iter(row.iter().map(String::as_str));
        }
        self.columns.push(builder.finish().into_series().into_column());
        self
    }

    pub fn build(self, table: &str) -> Result<DataFrame, SnapshotError> {
        let height = self.columns.first().map(|c| c.len()).unwrap_or(0);
        DataFrame::new(height, self.columns).map_err(|source| SnapshotError::Table { table: table.to_owned(), source })
    }
}
