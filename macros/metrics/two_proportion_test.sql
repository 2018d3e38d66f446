{#-
    The pooled two-proportion z-test of firmware release health: x1 successes
    of n1 against x2 of n2. The z statistic is null when a denominator is 0 or
    the pooled proportion is 0 or 1; its two-sided p-value is
    normal_two_sided_p(z), computed from a column that holds z.

    p = erfc(|z| / sqrt(2)). Neither engine offers the same erfc (DuckDB has
    none), so one closed-form approximation is used on both, which keeps the
    two engines' results identical: the Chebyshev fit of erfc from Numerical
    Recipes (section 6.2, "erfcc"), whose fractional error is below 1.2e-7 over
    the whole range, so even tiny p-values keep their leading digits.
-#}

{#- The pooled z statistic, null where the test is undefined (see above). -#}
{% macro two_proportion_z(x1, n1, x2, n2) -%}
    {%- set pooled -%}
        (cast({{ x1 }} + {{ x2 }} as double) / ({{ n1 }} + {{ n2 }}))
    {%- endset -%}
    {%- set z -%}
        (
            (cast({{ x1 }} as double) / {{ n1 }} - cast({{ x2 }} as double) / {{ n2 }})
            / sqrt({{ pooled }} * (1 - {{ pooled }}) * (1e0 / {{ n1 }} + 1e0 / {{ n2 }}))
        )
    {%- endset -%}
    case
        when {{ n1 }} is null or {{ n2 }} is null or {{ n1 }} = 0 or {{ n2 }} = 0
            then cast(null as double)
        when {{ x1 }} + {{ x2 }} = 0 or {{ x1 }} + {{ x2 }} = {{ n1 }} + {{ n2 }}
            then cast(null as double)
        else {{ z }}
    end
{%- endmacro %}

{#- Two-sided p-value of a standard normal statistic z (null stays null). -#}
{#- The fit overshoots 1 by 3e-8 at z = 0, hence the clamp. least() skips
    nulls on DuckDB but not on Trino, so a null z is handled first; erfc is
    written once: it repeats its argument twelve times, so pass a column. -#}
{% macro normal_two_sided_p(z) -%}
    case
        when {{ z }} is not null
            then least({{ access_analytics.erfc('abs(' ~ z ~ ') / sqrt(2.0)') }}, cast(1 as double))
    end
{%- endmacro %}

{#- Complementary error function for x >= 0 (see the top of this file). -#}
{% macro erfc(x) -%}
    {%- set t = '(1.0 / (1.0 + 0.5 * (' ~ x ~ ')))' -%}
    (
        {{ t }} * exp(
            -({{ x }}) * ({{ x }}) - 1.26551223
            + {{ t }} * (1.00002368
            + {{ t }} * (0.37409196
            + {{ t }} * (0.09678418
            + {{ t }} * (-0.18628806
            + {{ t }} * (0.27886807
            + {{ t }} * (-1.13520398
            + {{ t }} * (1.48851587
            + {{ t }} * (-0.82215223
            + {{ t }} * 0.17087277))))))))
        )
    )
{%- endmacro %}
