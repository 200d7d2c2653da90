//! SQL built from a row type's columns.

/// `c1, c2, …`: a select or insert list of `columns`, each prefixed with `prefix` (e.g. `"j."`).
pub(crate) fn column_list(prefix: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("{prefix}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT INTO table (c1, …) SELECT c1, … FROM UNNEST($n::t1[], …) … ORDER BY ordinality`:
/// inserts one row per element of the column arrays bound from `$first_param` on (a row type's
/// column arrays, declared with [`table_columns!`]), in array order. The list, the types and the
/// parameter numbers all come from the row type's declaration.
pub(crate) fn insert_unnest(
    table: &str,
    columns: &[&str],
    sql_types: &[&str],
    first_param: usize,
) -> String {
    let list = column_list("", columns);
    let arrays = sql_types
        .iter()
        .enumerate()
        .map(|(i, t)| format!("${}::{t}[]", first_param + i))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {table} ({list})
         SELECT {list} FROM UNNEST({arrays}) WITH ORDINALITY AS x({list}, ordinality)
         ORDER BY ordinality"
    )
}

/// Declares a row type with `melding_store::table_row!`, each field with the PostgreSQL type of
/// its column (`field: Type as "sqltype"`), and beside it `$columns`: the same fields as column
/// arrays, which a bulk insert binds (one array per column, in sqlx's binary encoding) and reads
/// back with `UNNEST` ([`insert_unnest`]), whatever the number of rows. `$columns::push` takes a
/// row; `$columns::bind` binds the arrays in `COLUMNS` order; `$columns::SQL_TYPES` are the
/// types in that order.
macro_rules! table_columns {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $table:literal, columns $columns:ident {
            $( $(#[$field_meta:meta])* $field:ident : $ty:ty as $sql:literal ),* $(,)?
        }
    ) => {
        melding_store::table_row! {
            $(#[$meta])*
            $vis struct $name in $table {
                $( $(#[$field_meta])* $field: $ty ),*
            }
        }

        #[doc = concat!("[`", stringify!($name), "`]s as column arrays, for a bulk insert.")]
        #[derive(Debug, Default)]
        $vis struct $columns {
            $( $field: Vec<$ty>, )*
        }

        #[allow(dead_code)]
        impl $columns {
            /// The columns' PostgreSQL types, in `COLUMNS` order.
            $vis const SQL_TYPES: &'static [&'static str] = &[$($sql),*];

            /// Appends `row`.
            $vis fn push(&mut self, row: $name) {
                $( self.$field.push(row.$field); )*
            }

            /// Binds the column arrays, in `COLUMNS` order, as the next parameters of `query`.
            $vis fn bind<'q>(
                &'q self,
                query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
            ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
                query $( .bind(&self.$field) )*
            }
        }
    };
}

pub(crate) use table_columns;

/// `json_build_object('c1', c1, …)`: one row as a JSON object keyed by column name, to be read
/// back with serde into the row type whose `COLUMNS` these are.
pub(crate) fn json_object_of(columns: &[&str]) -> String {
    let pairs = columns
        .iter()
        .map(|c| format!("'{c}', {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("json_build_object({pairs})")
}
