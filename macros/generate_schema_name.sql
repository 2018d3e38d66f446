{#-
    Schemas are named exactly after the layer (`staging`, `intermediate`,
    `marts`, `restricted`), not `<target schema>_<layer>` as dbt does by default:
    dashboards and other consumers address `marts.<relation>` directly.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
