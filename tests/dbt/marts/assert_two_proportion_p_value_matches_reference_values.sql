{#-
    The two-proportion z-test macros, used as int_firmware_release_rate_tests
    uses them (z in one column, its p-value from it), against reference
    values computed independently (Python: math.erfc for the normal tail). p-values must agree to a relative 1e-6, down to the far tail
    (p ~ 4e-10), and be null exactly where the test is undefined. Returns the
    cases that disagree.
-#}

with

two_proportion_cases as (

    -- p_value is null where the test is undefined: no trials on one side, or
    -- a pooled proportion of 0 or 1
    select *
    from (
        values
        (50, 100, 40, 100, 0.1552184896846842),
        (900, 1000, 800, 1000, 3.794791883145019e-10),
        (9880, 10000, 9900, 10000, 0.17513809234126815),
        (3, 4, 1, 4, 0.1572992070502852),
        (0, 0, 5, 10, null),
        (0, 10, 0, 10, null),
        (10, 10, 7, 7, null)
    ) as cases (x1, n1, x2, n2, p_value) -- noqa: AL05

),

z_scored as (

    select
        *,
        {{ access_analytics.two_proportion_z('x1', 'n1', 'x2', 'n2') }} as z
    from two_proportion_cases

),

tested as (

    select
        *,
        {{ access_analytics.normal_two_sided_p('z') }} as computed_p_value
    from z_scored

),

final as (

    select 'p-value ' || cast(x1 as varchar) || '/' || cast(n1 as varchar) as failing_case
    from tested
    where
        case
            when p_value is null then computed_p_value is not null
            else computed_p_value is null or abs(computed_p_value - p_value) > 1e-6 * p_value
        end

)

select * from final
