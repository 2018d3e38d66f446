{#-
    The Wilson interval and the two-proportion z-test p-value macros against
    reference values computed independently (Python: the textbook Wilson form
    p-hat +/- ..., and math.erfc for the normal tail). Bounds must agree to
    1e-9; p-values to a relative 1e-6, down to the far tail (p ~ 4e-10).
    Returns the cases that disagree.
-#}

with

wilson_cases as (

    select *
    from (
        values
        (5, 10, 0.23659308901147938, 0.7634069109885205),
        (0, 10, 0.0, 0.2775328030260577),
        (10, 10, 0.7224671969739421, 1.0),
        (1, 100, 0.001767432044609646, 0.0544861967490067),
        (9990, 10000, 0.9981600556039818, 0.9994567140160396)
    ) as cases (successes, trials, low, high) -- noqa: AL05

),

p_value_cases as (

    select *
    from (
        values
        (50, 100, 40, 100, 0.1552184896846842),
        (900, 1000, 800, 1000, 3.794791883145019e-10),
        (9880, 10000, 9900, 10000, 0.17513809234126815),
        (3, 4, 1, 4, 0.1572992070502852)
    ) as cases (x1, n1, x2, n2, p_value) -- noqa: AL05

),

undefined_cases as (

    -- no trials on one side, or a pooled proportion of 0 or 1: no p-value
    select *
    from (
        values
        (0, 0, 5, 10),
        (0, 10, 0, 10),
        (10, 10, 7, 7)
    ) as cases (x1, n1, x2, n2) -- noqa: AL05

),

wilson_failures as (

    select 'wilson ' || cast(successes as varchar) || '/' || cast(trials as varchar) as failing_case
    from wilson_cases
    where
        abs({{ access_analytics.wilson_low('successes', 'trials', 1.959964) }} - low) > 1e-9
        or abs({{ access_analytics.wilson_high('successes', 'trials', 1.959964) }} - high) > 1e-9
        or {{ access_analytics.wilson_low('successes', 'trials', 1.959964) }} < 0
        or {{ access_analytics.wilson_high('successes', 'trials', 1.959964) }} > 1

),

p_value_failures as (

    select 'p-value ' || cast(x1 as varchar) || '/' || cast(n1 as varchar) as failing_case
    from p_value_cases
    where not (
        abs({{ access_analytics.two_proportion_p_value('x1', 'n1', 'x2', 'n2') }} - p_value)
        <= 1e-6 * p_value
    )

),

undefined_failures as (

    select 'undefined ' || cast(x1 as varchar) || '/' || cast(n1 as varchar) as failing_case
    from undefined_cases
    where {{ access_analytics.two_proportion_p_value('x1', 'n1', 'x2', 'n2') }} is not null

),

final as (

    select * from wilson_failures
    union all
    select * from p_value_failures
    union all
    select * from undefined_failures

)

select * from final
