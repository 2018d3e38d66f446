{#-
    Continuous percentile (linear interpolation between the two nearest ranks),
    as an aggregate. DuckDB computes it exactly. Trino has no exact
    percentile_cont, and its approx_percentile (a t-digest, with no accuracy
    argument) is off by several percent on heavy-tailed latencies and returns
    sample values instead of interpolating. So the trino__ variant sorts each
    group's non-null values (array_agg) and interpolates between the two
    nearest ranks itself: exact, the same definition as DuckDB, at the cost of
    holding one group's values in memory. Use it as an aggregate, not a window.

    `among` lists every fraction of the same expr that the query computes (this
    one included). On DuckDB they then share one aggregate state: each is an
    element of one quantile_cont over the list, and DuckDB computes identical
    aggregates once. A quantile state holds every value of its group, and a
    CUBE has a group per grouping set, so four percentiles of a cube's column
    kept apart hold every value four times over: a quarter of the memory, the
    same numbers. Trino computes each fraction on its own either way.

    The state holds values of the input's type, and the result is the same for
    an integer and a bigint input: the cubes pass their millisecond durations
    as 4-byte integers (session windows bound them to minutes), which halves
    the memory of their 64 groupings' states.
-#}
{% macro percentile_cont(expr, fraction, among=none) -%}
    {%- if among is not none and fraction not in among -%}
        {{ exceptions.raise_compiler_error(
            "percentile_cont(" ~ expr ~ ", " ~ fraction ~ "): the fraction is not among " ~ among) }}
    {%- endif -%}
    {{ return(adapter.dispatch('percentile_cont', 'access_analytics')(expr, fraction, among)) }}
{%- endmacro %}

{% macro duckdb__percentile_cont(expr, fraction, among=none) -%}
    {%- if among is none -%}
    quantile_cont({{ expr }}, {{ fraction }})
    {%- else -%}
    quantile_cont({{ expr }}, [{{ among | join(', ') }}])[{{ among.index(fraction) + 1 }}]
    {%- endif -%}
{%- endmacro %}

{% macro trino__percentile_cont(expr, fraction, among=none) -%}
    {%- set sorted = 'array_sort(array_agg(cast(' ~ expr ~ ' as double)) filter (where ' ~ expr ~ ' is not null))' -%}
    {%- set position = '(cast(' ~ fraction ~ ' as double) * (count(' ~ expr ~ ') - 1))' -%}
    {%- set lower_value = 'element_at(' ~ sorted ~ ', cast(floor(' ~ position ~ ') as bigint) + 1)' -%}
    {%- set upper_value = 'element_at(' ~ sorted ~ ', cast(ceiling(' ~ position ~ ') as bigint) + 1)' -%}
    (case
        when count({{ expr }}) > 0
            then {{ lower_value }} + ({{ position }} - floor({{ position }})) * ({{ upper_value }} - {{ lower_value }})
    end)
{%- endmacro %}


{#- Median with interpolation: the mean of the two middle values for an even count. -#}
{% macro median(expr) -%}
    {{ return(access_analytics.percentile_cont(expr, 0.5)) }}
{%- endmacro %}
