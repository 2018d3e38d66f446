select *
from (
    values
    (1, 'a', 10, 0.0),
    (2, 'a', 20, 0.5),
    (3, 'b', 30, 1.0),
    (4, 'b', 40, 1.5),
    (4, 'c', null, null)
) as measurements (measurement_id, kind, value_ms, rate)
