{#-
    Privacy: fails for every text value of the model that is a VIN or key id
    in clear, whether one the raw registries know or one merely shaped like a
    VIN. The text columns are read from the built relation. It reads the
    registries from the raw sources, not from staging, so it runs with the
    model it tests and never with a staging-only selection.
-#}
{% test no_identifiers_in_clear(model) %}
    {%- set text_columns = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(model) if column.is_string() -%}
            {%- do text_columns.append(column.name) -%}
        {%- endfor -%}
    {%- endif %}

    with

    identifiers as (

        select vin as identifier from {{ source('raw', 'vehicles') }}
        union
        select key_id as identifier from {{ source('raw', 'keys') }}

    ),

    model_values as (

        {%- for column_name in text_columns %}
        select distinct
            '{{ column_name }}' as column_name,
            cast({{ adapter.quote(column_name) }} as varchar) as column_value
        from {{ model }}
        {%- if not loop.last %}
        union all
        {%- endif %}
        {%- endfor %}
        {%- if not text_columns %}
        select
            cast(null as varchar) as column_name,
            cast(null as varchar) as column_value
        {%- endif %}

    )

    select model_values.*
    from model_values
    where
        model_values.column_value in (select identifiers.identifier from identifiers)
        or {{ access_analytics.regexp_full_match('model_values.column_value', '[A-HJ-NPR-Z0-9]{17}') }}
{% endtest %}
