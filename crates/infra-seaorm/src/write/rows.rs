//! The rows a commit inserts (orders, their lines and allocations, ledger entries), as
//! multi-row `INSERT … VALUES` statements built straight from their active models, and on
//! PostgreSQL sent together as one statement, which also takes the feed's sequences the rows
//! are numbered with.
//!
//! SeaORM's `insert_many` builds a query tree first and renders it cell by cell through each
//! column's definition: measured with callgrind, about 20k of the 205k instructions the server
//! spent per hot checkout. The statement here is the same one, written directly. And a batch's
//! inserts run while it holds the event-sequence row (every commit's last lock), one round
//! trip each: on PostgreSQL they go as one statement, each table's INSERT a `WITH` clause of
//! the last (the foreign keys between them are checked at the end of the statement, when every
//! row is in). There the event-sequence row's UPDATE (see [`crate::events::sequence`]) is a
//! `WITH` clause of that statement too, when nothing before the inserts needs a sequence: the
//! lock every commit ends on is then held for one round trip and the commit, not two.

use std::fmt::Write as _;

use domain::ports::StoreError;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityName, EntityTrait, IdenStatic, Iterable,
    Statement, Value,
};

use crate::error::store_error;
use crate::events::sequence;

/// Rows per `VALUES` list: a batch of carts of 100 lines would otherwise exceed SQLite's
/// 32,766 bound parameters in one statement.
const ROWS_PER_INSERT: usize = 500;

/// Bound parameters per PostgreSQL statement, under its limit of 65,535.
pub(super) const PARAMETERS_PER_STATEMENT: usize = 60_000;

/// INSERTs to run, in the order added.
pub(super) struct Inserts {
    backend: DbBackend,
    /// Each statement's INSERTs (their texts, placeholders numbered within the statement) and
    /// its values: one INSERT per statement except on PostgreSQL.
    statements: Vec<(Vec<String>, Vec<Value>)>,
    /// How many of the feed's sequences the inserts take themselves (see
    /// [`Inserts::take_sequences`]); their numbered cells are offsets from the first.
    sequences: Option<i64>,
}

impl Inserts {
    pub(super) fn new(backend: DbBackend) -> Self {
        Self { backend, statements: Vec::new(), sequences: None }
    }

    /// Inserts for a larger PostgreSQL statement whose own parameters come first: `leading`
    /// are its first values, and the inserts' placeholders are numbered after them. See
    /// [`Inserts::into_one`].
    pub(super) fn after(leading: Vec<Value>) -> Self {
        Self {
            backend: DbBackend::Postgres,
            statements: vec![(Vec::new(), leading)],
            sequences: None,
        }
    }

    /// Has the inserts take the feed's next `count` sequences themselves when they run, if
    /// this backend lets them (PostgreSQL); returns whether they will. Then the cells of the
    /// columns named to [`Inserts::add_numbered`] are offsets from the first sequence (0 for
    /// the first), and the caller takes no sequence itself: its last lock is the inserts'.
    pub(super) fn take_sequences(&mut self, count: usize) -> Result<bool, StoreError> {
        if self.backend != DbBackend::Postgres || count == 0 {
            return Ok(false);
        }
        self.sequences = Some(i64::try_from(count).map_err(StoreError::unavailable)?);
        Ok(true)
    }

    /// Adds `rows` (all of one entity, with the same columns set; an identity column left
    /// unset takes its default).
    pub(super) fn add<A: ActiveModelTrait>(&mut self, rows: &[A]) {
        self.add_numbered(rows, None);
    }

    /// Adds `rows` as [`Inserts::add`] does, `numbered`'s cells a sequence of the feed: as
    /// given, or an offset from the first sequence the inserts take (see
    /// [`Inserts::take_sequences`]).
    pub(super) fn add_numbered<A: ActiveModelTrait>(
        &mut self,
        rows: &[A],
        numbered: Option<<A::Entity as EntityTrait>::Column>,
    ) {
        let Some(first) = rows.first() else { return };
        let columns: Vec<_> = <A::Entity as EntityTrait>::Column::iter()
            .filter(|column| first.get(*column).is_set())
            .collect();
        let quote = if self.backend == DbBackend::MySql { '`' } else { '"' };
        let names: Vec<String> =
            columns.iter().map(|c| format!("{quote}{}{quote}", c.as_str())).collect();
        let head = format!(
            "INSERT INTO {quote}{}{quote} ({}) VALUES ",
            A::Entity::default().table_name(),
            names.join(", ")
        );
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let cells = chunk.len() * columns.len();
            let postgres = self.backend == DbBackend::Postgres;
            let joins = postgres
                && (self.statements.last())
                    .is_some_and(|(_, values)| values.len() + cells <= PARAMETERS_PER_STATEMENT);
            if !joins {
                self.statements.push((Vec::new(), Vec::with_capacity(cells)));
            }
            let Some((texts, values)) = self.statements.last_mut() else { return };
            let mut sql = String::with_capacity(head.len() + cells * 6);
            sql.push_str(&head);
            for (i, row) in chunk.iter().enumerate() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for (j, column) in columns.iter().enumerate() {
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    values.push(row.get(*column).into_value().unwrap_or(Value::Bool(None)));
                    let offset = self.sequences.is_some()
                        && numbered.is_some_and(|n| n.as_str() == column.as_str());
                    if offset {
                        let _ = write!(sql, "(${} + (SELECT first FROM seq))", values.len());
                    } else if postgres {
                        let _ = write!(sql, "${}", values.len());
                    } else {
                        sql.push('?');
                    }
                }
                sql.push(')');
            }
            texts.push(sql);
        }
    }

    /// The INSERTs (each to be a `WITH` clause, the feed's sequences taken by a clause `seq`
    /// of the caller's) and every value of the statement, the leading ones first, when they fit
    /// in one statement; `None` when they do not.
    pub(super) fn into_one(self) -> Option<(Vec<String>, Vec<Value>)> {
        let mut statements = self.statements.into_iter();
        let one = statements.next();
        if statements.next().is_some() {
            return None;
        }
        one
    }

    /// Runs the INSERTs, in the order added, taking their sequences first if they are to
    /// (see [`Inserts::take_sequences`]): in the one statement's `WITH` clause `seq`, or, when
    /// a batch's rows fill more than one statement, in a round trip before them.
    pub(super) async fn run(self, txn: &impl ConnectionTrait) -> Result<(), StoreError> {
        let taken = match self.sequences {
            Some(count) if self.statements.len() > 1 => {
                let count = usize::try_from(count).map_err(StoreError::unavailable)?;
                Some(sequence::take(txn, count).await?)
            }
            _ => None,
        };
        for (texts, mut values) in self.statements {
            let Some((last, earlier)) = texts.split_last() else { continue };
            let mut sql = String::new();
            if let Some(count) = self.sequences {
                let n = values.len() + 1;
                match taken {
                    Some(first) => {
                        let _ = write!(sql, "WITH seq AS (SELECT ${n}::int8 AS first)");
                        values.push(Value::from(first));
                    }
                    None => {
                        let _ = write!(
                            sql,
                            "WITH seq AS (UPDATE event_sequence SET last = last + ${n}::int8 \
                             WHERE id = 1 RETURNING last - ${n}::int8 + 1 AS first)"
                        );
                        values.push(Value::from(count));
                    }
                }
            }
            for (i, text) in earlier.iter().enumerate() {
                sql.push_str(if sql.is_empty() { "WITH " } else { ", " });
                let _ = write!(sql, "i{i} AS ({text})");
            }
            if !sql.is_empty() {
                sql.push(' ');
            }
            sql.push_str(last);
            let statement = Statement::from_sql_and_values(self.backend, sql, values);
            txn.execute_raw(statement).await.map_err(store_error)?;
        }
        Ok(())
    }
}
