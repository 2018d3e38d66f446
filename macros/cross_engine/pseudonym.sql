{#-
    Keyed pseudonym of an identifier (marts never show a VIN or key id): the first 16
    lowercase hex characters of SHA-256 over the UTF-8 string '<key>|<value>'.
    The key comes from ACCESS_PSEUDONYM_KEY and is never stored in the project;
    the same key gives the same pseudonyms on every engine.
-#}
{% macro pseudonym_key() -%}
    {%- set key = env_var('ACCESS_PSEUDONYM_KEY', '') -%}
    {%- if execute and key == '' -%}
        {{ exceptions.raise_compiler_error(
            "ACCESS_PSEUDONYM_KEY is not set: marts pseudonymize VINs and key ids with a key "
            ~ "taken from the environment. Set it (the local demo uses 'demo-pseudonym-key')."
        ) }}
    {%- endif -%}
    {{ return(key) }}
{%- endmacro %}

{% macro pseudonym(expr) -%}
    {{ return(adapter.dispatch('pseudonym', 'access_analytics')(expr)) }}
{%- endmacro %}

{% macro duckdb__pseudonym(expr) -%}
    left(sha256({{ access_analytics.sql_string(access_analytics.pseudonym_key() ~ '|') }} || {{ expr }}), 16)
{%- endmacro %}

{% macro trino__pseudonym(expr) -%}
    substr(lower(to_hex(sha256(to_utf8({{ access_analytics.sql_string(access_analytics.pseudonym_key() ~ '|') }} || {{ expr }})))), 1, 16)
{%- endmacro %}


{#- A SQL string literal with quotes escaped. -#}
{% macro sql_string(value) -%}
    '{{ value | replace("'", "''") }}'
{%- endmacro %}
