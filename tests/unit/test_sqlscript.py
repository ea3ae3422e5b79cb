from db.sqlscript import split_statements


def test_splits_on_semicolons_outside_dollar_bodies_strings_and_comments() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE a (x text DEFAULT 'semi;colon');
    CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN
        RETURN 1;
    END $$;
    DO $body$ BEGIN PERFORM 1; END $body$;
    CREATE INDEX i ON a (x)
    """
    statements = split_statements(script)
    assert len(statements) == 4
    assert statements[0] == "CREATE TABLE a (x text DEFAULT 'semi;colon')"
    assert "RETURN 1;" in statements[1] and statements[1].endswith("END $$")
    assert statements[2].startswith("DO $body$") and statements[2].endswith("$body$")
    assert statements[3] == "CREATE INDEX i ON a (x)"


def test_empty_script_has_no_statements() -> None:
    assert split_statements("  -- nothing\n ; ;") == []
