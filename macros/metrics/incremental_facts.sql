{#-
    Incremental facts copy the sessions rebuilt since their own watermark
    (newest source_ingest_date, minus the ingest lookback) and attach the
    registry attributes. The registries are trusted snapshots whose newest
    version is the truth, so an incremental run also re-attaches the
    attributes of stored rows whose registry values have changed since they
    were written: the result equals a full build of the same data.
-#}

{#- Ids of stored fact rows whose vehicle attributes differ from the newest registry. -#}
{% macro stale_vehicle_attribute_ids(id_column, vehicles_cte) -%}
    select stored.{{ id_column }}
    from {{ this }} as stored
    left join {{ vehicles_cte }} as current_vehicles
        on stored.vehicle_key = current_vehicles.vehicle_key
    where stored.model <> coalesce(current_vehicles.model, 'unknown')
        or stored.region <> coalesce(current_vehicles.region, 'unknown')
        or stored.access_hw <> coalesce(current_vehicles.access_hw, 'unknown')
{%- endmacro %}


{#-
    Ids of stored fact rows whose value in one of `columns` differs from the
    sessions relation: columns that can change without a new ingest day of
    the session's own events (such as a card tap's intent, decided by an
    earlier lock state event that may arrive late).
-#}
{% macro changed_session_ids(sessions_cte, id_column, columns) -%}
    select {{ sessions_cte }}.{{ id_column }}
    from {{ sessions_cte }}
    inner join {{ this }} as stored
        on {{ sessions_cte }}.{{ id_column }} = stored.{{ id_column }}
    where
    {%- for column in columns %}
        {{ 'or ' if not loop.first }}stored.{{ column }} <> {{ sessions_cte }}.{{ column }}
    {%- endfor %}
{%- endmacro %}


{#-
    The sessions an incremental fact run (re)writes: those rebuilt since the
    fact's watermark, and stored ones whose vehicle attributes changed in the
    registry, and stored ones whose `recheck_columns` differ from the
    sessions relation. Every session on a full build.
-#}
{% macro sessions_to_write(sessions_cte, id_column, vehicles_cte='vehicles', recheck_columns=[]) -%}
    select * from {{ sessions_cte }}
    {%- if is_incremental() %}
    where source_ingest_date >= {{ access_analytics.session_ingest_cutoff() }}
        or {{ id_column }} in (
            {{ access_analytics.stale_vehicle_attribute_ids(id_column, vehicles_cte) }}
        )
        {%- if recheck_columns %}
        or {{ id_column }} in (
            {{ access_analytics.changed_session_ids(sessions_cte, id_column, recheck_columns) }}
        )
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#-
    The registry attributes of a session's vehicle, 'unknown' when the
    vehicle is not in the newest registry: a select-list prefix.
-#}
{% macro vehicle_attributes(vehicles_cte='vehicles', attributes=['model', 'region', 'access_hw']) -%}
    {%- for attribute in attributes %}
        coalesce({{ vehicles_cte }}.{{ attribute }}, 'unknown') as {{ attribute }},
    {%- endfor %}
{%- endmacro %}

{#-
    The body of a session fact (attempts, card taps, walk-away episodes):
    the sessions an incremental run writes (sessions_to_write), with the
    vehicle's VIN replaced by its keyed pseudonym and the newest registry
    attributes of the vehicle attached. `columns` are the session's own
    columns or expressions to publish after the id; `recheck_columns` those
    of them that can change without a new ingest day of the session's own
    events (see sessions_to_write).
-#}
{% macro pseudonymized_sessions(sessions_relation, id_column, columns, recheck_columns=[]) -%}
with

sessions as (select * from {{ sessions_relation }}),

vehicles as (select * from {{ ref('int_vehicles_pseudonymized') }}),

selected_sessions as (

    {{ access_analytics.sessions_to_write('sessions', id_column, recheck_columns=recheck_columns) }}

),

final as (

    select
        selected_sessions.{{ id_column }},
        {{ access_analytics.pseudonym('selected_sessions.vin') }} as vehicle_key,
        {{ access_analytics.vehicle_attributes() }}
        {%- for column in columns %}
        selected_sessions.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from selected_sessions
    left join vehicles
        on selected_sessions.vin = vehicles.vin

)

select * from final
{%- endmacro %}
