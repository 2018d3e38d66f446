{#-
    The Wilson interval macros against reference values computed
    independently (Python: the textbook Wilson form p-hat +/- ...). Bounds must
    agree to 1e-9 and stay within [0, 1]. Returns the cases that disagree.
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

wilson_bounds as (

    select
        *,
        {{ access_analytics.wilson_low('successes', 'trials', 1.959964) }} as computed_low,
        {{ access_analytics.wilson_high('successes', 'trials', 1.959964) }} as computed_high
    from wilson_cases

),

final as (

    select 'wilson ' || cast(successes as varchar) || '/' || cast(trials as varchar) as failing_case
    from wilson_bounds
    where
        abs(computed_low - low) > 1e-9
        or abs(computed_high - high) > 1e-9
        or computed_low < 0
        or computed_high > 1

)

select * from final
