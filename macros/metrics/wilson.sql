{#-
    Wilson score interval for a proportion of `successes` out of `trials`
    (95 %, z = wilson_z from the seed; docs/metrics.md#conventions). Written in the closed form
    (2k + z^2 -/+ z * sqrt(z^2 + 4k(n - k)/n)) / (2(n + z^2)), which stays
    accurate near 0 and 1; the bounds at k = 0 and k = n are exactly 0 and 1 by
    definition, so they are set explicitly instead of trusting floating point.
    Null when there are no trials. The literals are doubles (2e0): on Trino a
    decimal literal such as 2.0 makes the arithmetic decimal, rounded to one place.
-#}
{% macro wilson_low(successes, trials, z) -%}
    case
        when {{ trials }} is null or {{ trials }} = 0 then cast(null as double)
        when {{ successes }} = 0 then cast(0 as double)
        else greatest(
            cast(0 as double),
            (
                2e0 * {{ successes }} + {{ z }} * {{ z }}
                - {{ z }} * sqrt(
                    {{ z }} * {{ z }}
                    + 4e0 * {{ successes }} * ({{ trials }} - {{ successes }}) / {{ trials }}
                )
            ) / (2e0 * ({{ trials }} + {{ z }} * {{ z }}))
        )
    end
{%- endmacro %}

{% macro wilson_high(successes, trials, z) -%}
    case
        when {{ trials }} is null or {{ trials }} = 0 then cast(null as double)
        when {{ successes }} = {{ trials }} then cast(1 as double)
        else least(
            cast(1 as double),
            (
                2e0 * {{ successes }} + {{ z }} * {{ z }}
                + {{ z }} * sqrt(
                    {{ z }} * {{ z }}
                    + 4e0 * {{ successes }} * ({{ trials }} - {{ successes }}) / {{ trials }}
                )
            ) / (2e0 * ({{ trials }} + {{ z }} * {{ z }}))
        )
    end
{%- endmacro %}

{#- A rate as a double fraction, null when the denominator is 0. -#}
{% macro safe_ratio(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then cast(null as double)
        else cast({{ numerator }} as double) / {{ denominator }}
    end
{%- endmacro %}
