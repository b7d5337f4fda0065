#!/usr/bin/env python3
"""Generate a synthetic Prisma migration history for the benchmark.

    python3 bench/gen_history.py N OUT_DIR [--seed S]

Writes OUT_DIR/migration_lock.toml and N folders OUT_DIR/<14-digit timestamp>_<name>/migration.sql
in the style `prisma migrate dev` generates (`-- CreateTable`, quoted identifiers, TIMESTAMP(3),
separate `ADD CONSTRAINT ... FOREIGN KEY`, enum recreates in BEGIN/COMMIT), with the mix a real
SaaS history has: mostly new models with their indexes and foreign keys, then column changes,
enum changes, DO blocks and data fixes. The same N and seed always give the same files.
"""

import argparse
import datetime
import os
import random
import shutil

WORDS = [
    "account", "address", "audit", "billing", "booking", "campaign", "cart", "category",
    "channel", "comment", "contract", "coupon", "customer", "delivery", "device", "discount",
    "document", "event", "export", "feature", "feedback", "file", "folder", "invoice", "invite",
    "item", "job", "label", "lead", "license", "member", "message", "metric", "note",
    "notification", "order", "payment", "plan", "policy", "price", "product", "project",
    "receipt", "refund", "report", "review", "role", "schedule", "session", "setting",
    "shipment", "subscription", "task", "team", "template", "ticket", "token", "usage",
    "vendor", "webhook", "workspace",
]
# (type, the constant default Prisma would write for it)
FIELD_TYPES = [
    ("TEXT", "''"),
    ("TEXT", "''"),
    ("INTEGER", "0"),
    ("BOOLEAN", "false"),
    ("DOUBLE PRECISION", "0"),
    ("DECIMAL(65,30)", "0"),
    ("TIMESTAMP(3)", "CURRENT_TIMESTAMP"),
    ("JSONB", "'{}'"),
    ("VARCHAR(255)", "''"),
    ("BIGINT", "0"),
]
FIELD_NAMES = [
    "name", "title", "description", "status", "amount", "quantity", "email", "phone", "url",
    "code", "slug", "notes", "priority", "position", "currency", "total", "externalId",
    "archivedAt", "expiresAt", "metadata", "source", "kind", "score", "locale", "color",
]


def pascal(word):
    return word[0].upper() + word[1:]


class History:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.tables = {}  # name -> {column: type}
        self.enums = {}  # name -> [values]
        self.enum_columns = []  # (table, column, enum)
        self.indexes = []  # (index name, table)
        self.serial = 0

    def unique(self, base):
        self.serial += 1
        return f"{base}{self.serial}"

    def forget_column(self, table, column):
        self.enum_columns = [(t, c, e) for t, c, e in self.enum_columns if (t, c) != (table, column)]

    def pick_table(self):
        return self.rng.choice(sorted(self.tables))

    # --- migration kinds -------------------------------------------------------------------

    def new_model(self):
        rng = self.rng
        name = pascal(rng.choice(WORDS)) + str(len(self.tables) + 1)
        columns = {"id": "TEXT", "createdAt": "TIMESTAMP(3)", "updatedAt": "TIMESTAMP(3)"}
        lines = [
            '    "id" TEXT NOT NULL',
            '    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP',
            '    "updatedAt" TIMESTAMP(3) NOT NULL',
        ]
        for field in rng.sample(FIELD_NAMES, rng.randint(2, 7)):
            sql_type, default = rng.choice(FIELD_TYPES)
            required = rng.random() < 0.5
            line = f'    "{field}" {sql_type}'
            if required:
                line += " NOT NULL"
            if sql_type in ("INTEGER", "BOOLEAN") and rng.random() < 0.6:
                line += f" DEFAULT {default}"
            lines.append(line)
            columns[field] = sql_type
        enum_sql = []
        if self.enums and rng.random() < 0.3:
            enum = rng.choice(sorted(self.enums))
            column = enum[0].lower() + enum[1:]
            lines.append(f'    "{column}" "{enum}" NOT NULL DEFAULT \'{self.enums[enum][0]}\'')
            columns[column] = enum
            self.enum_columns.append((name, column, enum))
        elif rng.random() < 0.15:
            enum = pascal(rng.choice(WORDS)) + "Status" + str(len(self.enums) + 1)
            values = ["ACTIVE", "INACTIVE", "PENDING"][: rng.randint(2, 3)]
            self.enums[enum] = values
            quoted = ", ".join(f"'{v}'" for v in values)
            enum_sql.append(f'-- CreateEnum\nCREATE TYPE "{enum}" AS ENUM ({quoted});\n')
            column = "state"
            lines.append(f'    "{column}" "{enum}" NOT NULL DEFAULT \'{values[0]}\'')
            columns[column] = enum
            self.enum_columns.append((name, column, enum))
        parents = []
        if self.tables:
            for parent in rng.sample(sorted(self.tables), min(len(self.tables), rng.randint(0, 2))):
                fk = parent[0].lower() + parent[1:] + "Id"
                required = rng.random() < 0.7
                lines.append(f'    "{fk}" TEXT' + (" NOT NULL" if required else ""))
                columns[fk] = "TEXT"
                parents.append((parent, fk, required))
        lines.append(f'\n    CONSTRAINT "{name}_pkey" PRIMARY KEY ("id")')
        body = ",\n".join(lines[:-1]) + ",\n" + lines[-1]
        sql = enum_sql + [f'-- CreateTable\nCREATE TABLE "{name}" (\n{body}\n);\n']
        for parent, fk, _ in parents:
            index = f"{name}_{fk}_idx"
            sql.append(f'-- CreateIndex\nCREATE INDEX "{index}" ON "{name}"("{fk}");\n')
            self.indexes.append((index, name))
        if "email" in columns or "slug" in columns:
            field = "email" if "email" in columns else "slug"
            index = f"{name}_{field}_key"
            sql.append(f'-- CreateIndex\nCREATE UNIQUE INDEX "{index}" ON "{name}"("{field}");\n')
            self.indexes.append((index, name))
        for parent, fk, required in parents:
            on_delete = "RESTRICT" if required else "SET NULL"
            sql.append(
                f'-- AddForeignKey\nALTER TABLE "{name}" ADD CONSTRAINT "{name}_{fk}_fkey" '
                f'FOREIGN KEY ("{fk}") REFERENCES "{parent}"("id") '
                f"ON DELETE {on_delete} ON UPDATE CASCADE;\n"
            )
        self.tables[name] = columns
        return f"add_{name.lower()}", sql

    def alter_columns(self):
        rng = self.rng
        table = self.pick_table()
        columns = self.tables[table]
        sql = []
        actions = []
        for _ in range(rng.randint(1, 3)):
            kind = rng.choices(
                ["add_nullable", "add_default", "add_required", "drop", "type", "not_null",
                 "drop_not_null", "rename"],
                weights=[30, 20, 6, 8, 8, 6, 10, 3],
            )[0]
            droppable = [c for c in columns if c not in ("id", "createdAt", "updatedAt")]
            if kind.startswith("add"):
                field = self.unique(rng.choice(FIELD_NAMES))
                sql_type, default = rng.choice(FIELD_TYPES)
                clause = f'ADD COLUMN "{field}" {sql_type}'
                if kind == "add_default":
                    clause += f" NOT NULL DEFAULT {default}"
                elif kind == "add_required":
                    clause += " NOT NULL"
                actions.append(clause)
                columns[field] = sql_type
            elif not droppable:
                continue
            elif kind == "drop":
                field = rng.choice(droppable)
                actions.append(f'DROP COLUMN "{field}"')
                del columns[field]
                self.forget_column(table, field)
            elif kind == "type":
                field = rng.choice(droppable)
                new_type = rng.choice(["TEXT", "VARCHAR(500)", "BIGINT", "DECIMAL(65,30)"])
                actions.append(f'ALTER COLUMN "{field}" SET DATA TYPE {new_type}')
                columns[field] = new_type
                self.forget_column(table, field)
            elif kind == "not_null":
                actions.append(f'ALTER COLUMN "{rng.choice(droppable)}" SET NOT NULL')
            elif kind == "drop_not_null":
                actions.append(f'ALTER COLUMN "{rng.choice(droppable)}" DROP NOT NULL')
            elif kind == "rename":
                field = rng.choice(droppable)
                renamed = self.unique(field)
                sql.append(
                    f'-- AlterTable\nALTER TABLE "{table}" RENAME COLUMN "{field}" TO "{renamed}";\n'
                )
                columns[renamed] = columns.pop(field)
                self.enum_columns = [
                    (t, renamed if (t, c) == (table, field) else c, e)
                    for t, c, e in self.enum_columns
                ]
        if actions:
            warnings = ""
            if any(a.startswith("DROP COLUMN") for a in actions):
                warnings = (
                    "/*\n  Warnings:\n\n  - You are about to drop a column on the "
                    f'`{table}` table. All the data in the column will be lost.\n\n*/\n'
                )
            sql.insert(
                0,
                f'{warnings}-- AlterTable\nALTER TABLE "{table}" '
                + ",\n".join(actions)
                + ";\n",
            )
        if not sql:
            sql.append(f'-- AlterTable\nALTER TABLE "{table}" ADD COLUMN "{self.unique("extra")}" TEXT;\n')
        return f"alter_{table.lower()}", sql

    def enum_recreate(self):
        if not self.enum_columns:
            return self.alter_columns()
        rng = self.rng
        table, column, enum = rng.choice(self.enum_columns)
        values = self.enums[enum]
        removed = values[-1] if len(values) > 2 else None
        new_values = [v for v in values if v != removed] + [self.unique("STATE_")]
        self.enums[enum] = new_values
        quoted = ", ".join(f"'{v}'" for v in new_values)
        users = [(t, c) for t, c, e in self.enum_columns if e == enum]
        alters = []
        for t, c in users:
            alters.append(f'ALTER TABLE "{t}" ALTER COLUMN "{c}" DROP DEFAULT;')
            alters.append(
                f'ALTER TABLE "{t}" ALTER COLUMN "{c}" TYPE "{enum}_new" '
                f'USING ("{c}"::text::"{enum}_new");'
            )
        defaults = [
            f'ALTER TABLE "{t}" ALTER COLUMN "{c}" SET DEFAULT \'{new_values[0]}\';' for t, c in users
        ]
        header = ""
        if removed:
            header = (
                "/*\n  Warnings:\n\n  - The values [" + removed + f"] on the enum `{enum}` will be "
                "removed. If these variants are still used in the database, this will fail.\n\n*/\n"
            )
        sql = [
            header
            + "-- AlterEnum\nBEGIN;\n"
            + f'CREATE TYPE "{enum}_new" AS ENUM ({quoted});\n'
            + "\n".join(alters)
            + f'\nALTER TYPE "{enum}" RENAME TO "{enum}_old";\n'
            + f'ALTER TYPE "{enum}_new" RENAME TO "{enum}";\n'
            + f'DROP TYPE "{enum}_old";\n'
            + "\n".join(defaults)
            + "\nCOMMIT;\n"
        ]
        return f"recreate_{enum.lower()}", sql

    def enum_add_value(self):
        if not self.enums:
            return self.new_model()
        enum = self.rng.choice(sorted(self.enums))
        value = self.unique("STATE_")
        self.enums[enum].append(value)
        return f"add_{value.lower()}", [f"-- AlterEnum\nALTER TYPE \"{enum}\" ADD VALUE '{value}';\n"]

    def do_block(self):
        rng = self.rng
        table = self.pick_table()
        columns = self.tables[table]
        if rng.random() < 0.5 or len(self.tables) < 2:
            field = self.unique("legacy")
            columns[field] = "TEXT"
            body = (
                "DO $$\nBEGIN\n"
                f"    IF NOT EXISTS (SELECT 1 FROM information_schema.columns\n"
                f"                   WHERE table_name = '{table}' AND column_name = '{field}') THEN\n"
                f'        ALTER TABLE "{table}" ADD COLUMN "{field}" TEXT;\n'
                "    END IF;\nEND $$;\n"
            )
        else:
            parent = rng.choice([t for t in sorted(self.tables) if t != table])
            body = (
                "DO $$ BEGIN\n"
                f'    ALTER TABLE "{table}" ADD CONSTRAINT "{table}_{parent}_ref_fkey" '
                f'FOREIGN KEY ("id") REFERENCES "{parent}"("id") NOT VALID;\n'
                "EXCEPTION\n    WHEN duplicate_object THEN null;\nEND $$;\n"
            )
        return f"guarded_{table.lower()}", [body]

    def data_fix(self):
        rng = self.rng
        table = self.pick_table()
        columns = [c for c in self.tables[table] if c not in ("id",)]
        column = rng.choice(columns)
        statements = [
            f'-- Backfill\nUPDATE "{table}" SET "updatedAt" = CURRENT_TIMESTAMP '
            f'WHERE "{column}" IS NULL;\n'
        ]
        if rng.random() < 0.4:
            statements.append(
                f"DELETE FROM \"{table}\" WHERE \"createdAt\" < '2021-01-01' AND \"{column}\" IS NULL;\n"
            )
        return f"backfill_{table.lower()}", statements

    def index_change(self):
        rng = self.rng
        if self.indexes and rng.random() < 0.4:
            index, table = self.indexes.pop(rng.randrange(len(self.indexes)))
            concurrently = "CONCURRENTLY " if rng.random() < 0.5 else ""
            return f"drop_{index.lower()}", [f'-- DropIndex\nDROP INDEX {concurrently}"{index}";\n']
        table = self.pick_table()
        column = rng.choice(sorted(self.tables[table]))
        index = f"{table}_{column}_{self.unique('idx')}"
        self.indexes.append((index, table))
        concurrently = "CONCURRENTLY " if rng.random() < 0.3 else ""
        return f"index_{table.lower()}", [
            f'-- CreateIndex\nCREATE INDEX {concurrently}"{index}" ON "{table}"("{column}");\n'
        ]

    def next_migration(self):
        if len(self.tables) < 3:
            return self.new_model()
        kind = self.rng.choices(
            [self.new_model, self.alter_columns, self.enum_recreate, self.enum_add_value,
             self.do_block, self.data_fix, self.index_change],
            weights=[40, 25, 6, 4, 5, 10, 10],
        )[0]
        return kind()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of migrations")
    parser.add_argument("out_dir", help="directory to (re)create")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    if os.path.exists(args.out_dir):
        shutil.rmtree(args.out_dir)
    os.makedirs(args.out_dir)
    with open(os.path.join(args.out_dir, "migration_lock.toml"), "w") as lock:
        lock.write(
            "# Please do not edit this file manually\n"
            "# It should be added in your version-control system (e.g., Git)\n"
            'provider = "postgresql"\n'
        )

    history = History(args.seed)
    start = datetime.datetime(2021, 1, 4, 9, 0, 0)
    statements = 0
    for number in range(args.count):
        name, sql = history.next_migration()
        stamp = (start + datetime.timedelta(hours=7 * number, seconds=number % 60)).strftime(
            "%Y%m%d%H%M%S"
        )
        folder = os.path.join(args.out_dir, f"{stamp}_{name}")
        os.makedirs(folder)
        text = "\n".join(sql)
        statements += text.count(";")
        with open(os.path.join(folder, "migration.sql"), "w") as out:
            out.write(text)
    print(f"{args.count} migrations, about {statements} statements, in {args.out_dir}")


if __name__ == "__main__":
    main()
