{#-
    Key-fob battery metrics of the whole fleet per UTC reading day: the row of
    the daily cube that rolls every slice dimension up. The metrics are
    computed once, in mart_fob_battery_daily_by_slice.
-#}

select
    metric_date,
    fobs_reporting,
    voltage_comp_mv_median,
    fobs_below_2700,
    share_below_2700,
    is_complete_day
from {{ access_analytics.fleet_rows(ref('mart_fob_battery_daily_by_slice'), ['model', 'region', 'cell_lot']) }}
