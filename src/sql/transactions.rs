//! Which statements of a migration file run in which transaction: one model for the rules (what
//! a failure undoes, which locks are still held, what is committed) and for the deploy engine
//! (how it groups statements). It depends on how the file is sent to PostgreSQL ([`Runner`]).

use crate::sql::{Statement, TransactionControl, Understanding};

/// How a migration file is sent to PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// `migration-gate deploy`: consecutive statements in one transaction, each statement
    /// PostgreSQL refuses in a transaction alone in autocommit; a file with its own
    /// BEGIN/COMMIT runs as written, statement by statement.
    Segmenting,
    /// The whole file as one simple query (Prisma up to 7.3; Prisma 7.4+ on a file it cannot
    /// parse): several statements run in one implicit transaction block, which the file's own
    /// COMMIT ends (the statements after it start another one).
    WholeFile,
    /// Statement by statement in autocommit (Prisma 7.4+ on a file it can parse): each
    /// statement commits on its own unless the file's BEGIN ... COMMIT wraps it.
    OneByOne,
}

/// Where one statement runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Statements with the same number run in the same transaction (numbers rise in file
    /// order, and a transaction is consecutive statements).
    pub transaction: usize,
    /// Inside a transaction block (written, the deployer's, or a multi-statement query's
    /// implicit one), where PostgreSQL refuses CONCURRENTLY and the like (25001).
    pub in_block: bool,
}

/// The placement of every statement of a file, in order.
pub fn place(statements: &[Statement], runner: Runner) -> Vec<Placement> {
    let has_control = statements.iter().any(|s| s.transaction_control().is_some());
    match runner {
        Runner::Segmenting if !has_control => segmented(statements),
        Runner::Segmenting | Runner::OneByOne => as_written(statements),
        Runner::WholeFile => whole_file(statements),
    }
}

/// The deploy engine's grouping of a file without BEGIN/COMMIT.
fn segmented(statements: &[Statement]) -> Vec<Placement> {
    let mut next = 0;
    let mut open: Option<usize> = None;
    let mut placements = Vec::with_capacity(statements.len());
    for statement in statements {
        if statement.requires_autocommit() {
            open = None;
            placements.push(Placement {
                transaction: next,
                in_block: false,
            });
            next += 1;
        } else {
            let transaction = *open.get_or_insert_with(|| {
                next += 1;
                next - 1
            });
            placements.push(Placement {
                transaction,
                in_block: true,
            });
        }
    }
    placements
}

/// Statements sent one by one in autocommit: only the file's own BEGIN ... COMMIT (or COMMIT
/// AND CHAIN) groups them.
fn as_written(statements: &[Statement]) -> Vec<Placement> {
    let mut next = 0;
    let mut block: Option<usize> = None;
    let mut placements = Vec::with_capacity(statements.len());
    for statement in statements {
        let control = statement.transaction_control();
        if control == Some(TransactionControl::Begin) && block.is_none() {
            block = Some(next);
            next += 1;
        }
        match block {
            Some(transaction) => placements.push(Placement {
                transaction,
                in_block: true,
            }),
            None => {
                placements.push(Placement {
                    transaction: next,
                    in_block: false,
                });
                next += 1;
            }
        }
        if matches!(
            control,
            Some(TransactionControl::Commit | TransactionControl::Rollback)
        ) {
            block = None;
        }
        if statement.chains() {
            // COMMIT AND CHAIN: the next statement is already in a new block.
            block = Some(next);
            next += 1;
        }
    }
    placements
}

/// One simple query: PostgreSQL runs several statements in one implicit transaction block (a
/// BEGIN inside only makes it explicit); COMMIT or ROLLBACK ends it and the statements after it
/// start another. Every statement of a multi-statement query counts as in a block, even after
/// a COMMIT: CONCURRENTLY fails there (25001); alone in the file it runs.
fn whole_file(statements: &[Statement]) -> Vec<Placement> {
    let in_block = statements.len() > 1;
    let mut transaction = 0;
    let mut placements = Vec::with_capacity(statements.len());
    for statement in statements {
        placements.push(Placement {
            transaction,
            in_block,
        });
        if matches!(
            statement.transaction_control(),
            Some(TransactionControl::Commit | TransactionControl::Rollback)
        ) {
            transaction += 1;
        }
    }
    placements
}

/// Whether every statement was parsed by our sqlparser: how we approximate "Prisma 7.4+ can
/// parse this file and splits it" (Prisma uses sqlparser too; a file it cannot parse is sent
/// whole).
pub fn fully_parsed(statements: &[Statement]) -> bool {
    statements
        .iter()
        .all(|s| s.understanding == Understanding::Parsed)
}

/// The statements of `statements` that run in the same transaction as the one at `index`, after
/// it.
pub fn later_in_same_transaction<'a>(
    statements: &'a [Statement],
    placements: &[Placement],
    index: usize,
) -> &'a [Statement] {
    let Some(own) = placements.get(index) else {
        return &[];
    };
    let end = placements[index + 1..]
        .iter()
        .position(|p| p.transaction != own.transaction)
        .map_or(placements.len(), |n| index + 1 + n);
    &statements[(index + 1).min(end)..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(source: &str, runner: Runner) -> Vec<(usize, bool)> {
        let statements = crate::sql::analyze_source(source);
        place(&statements, runner)
            .into_iter()
            .map(|p| (p.transaction, p.in_block))
            .collect()
    }

    const MIXED: &str = "ALTER TABLE t ADD b int;\nUPDATE t SET b = 1;\n\
                         CREATE INDEX CONCURRENTLY i ON t (b);\nINSERT INTO t VALUES (1);\n";

    #[test]
    fn our_deploy_groups_transactional_statements_and_runs_concurrently_alone() {
        let expected = vec![(0, true), (0, true), (1, false), (2, true)];
        assert_eq!(shape(MIXED, Runner::Segmenting), expected);
    }

    #[test]
    fn a_whole_file_query_is_one_implicit_block_even_for_concurrently() {
        let expected = vec![(0, true); 4];
        assert_eq!(shape(MIXED, Runner::WholeFile), expected);
        let alone = "CREATE INDEX CONCURRENTLY i ON t (b);\n";
        assert_eq!(shape(alone, Runner::WholeFile), vec![(0, false)]);
    }

    #[test]
    fn one_by_one_commits_each_statement() {
        let expected = vec![(0, false), (1, false), (2, false), (3, false)];
        assert_eq!(shape(MIXED, Runner::OneByOne), expected);
    }

    #[test]
    fn the_files_own_commit_ends_the_transaction_for_every_runner() {
        let source = "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nCOMMIT;\nBEGIN;\n\
                      ALTER TABLE t VALIDATE CONSTRAINT c;\nCOMMIT;\n";
        let statements = crate::sql::analyze_source(source);
        for runner in [Runner::Segmenting, Runner::WholeFile, Runner::OneByOne] {
            let placements = place(&statements, runner);
            assert_ne!(
                placements[0].transaction, placements[3].transaction,
                "{runner:?}"
            );
            assert!(later_in_same_transaction(&statements, &placements, 0).len() <= 1);
        }
        assert_eq!(
            shape(source, Runner::OneByOne),
            vec![(0, false), (1, false), (2, true), (2, true), (2, true)]
        );
    }
    #[test]
    fn commit_and_chain_ends_one_transaction_and_opens_the_next_block() {
        let source = "BEGIN;\nALTER TABLE t ADD b int;\nCOMMIT AND CHAIN;\n\
                      CREATE INDEX CONCURRENTLY i ON t (b);\nCOMMIT;\nSELECT 1;\n";
        for runner in [Runner::Segmenting, Runner::OneByOne] {
            assert_eq!(
                shape(source, runner),
                vec![
                    (0, true),
                    (0, true),
                    (0, true),
                    (1, true),
                    (1, true),
                    (2, false)
                ],
                "{runner:?}"
            );
        }
        // AND NO CHAIN is a plain COMMIT.
        let no_chain = "BEGIN;\nSELECT 1;\nCOMMIT AND NO CHAIN;\nSELECT 2;\n";
        assert_eq!(
            shape(no_chain, Runner::OneByOne),
            vec![(0, true), (0, true), (0, true), (1, false)]
        );
        let rollback = "BEGIN;\nSELECT 1;\nROLLBACK AND CHAIN;\nSELECT 2;\nCOMMIT;\n";
        assert_eq!(
            shape(rollback, Runner::OneByOne),
            vec![(0, true), (0, true), (0, true), (1, true), (1, true)]
        );
    }
}
