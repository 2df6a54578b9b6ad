"""Rule travel_time_surface: minutes from every cell to the nearest seat and to the core city."""

from agglonet.ecology.landcover import offroad_speed_codes
from agglonet.logs import setup_logging
from agglonet.transport.steps import write_travel_time_surfaces

setup_logging(snakemake.log[0])

p = snakemake.params
write_travel_time_surfaces(snakemake.input, snakemake.output, core_city=p.core_city,
                           offroad_speeds_kph=p.offroad_speeds_kph,
                           speed_by_code=offroad_speed_codes(p.offroad_speeds_kph))
