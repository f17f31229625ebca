// The small test cell several robot-cell tests share: one UR5e on the floor beside a 1 m body on
// a 2 m belt, dt 1 ms. Tests add their own cell keys and spots.
#pragma once

#include <string>

namespace ftwin::testing {

/// `physics`: native or bullet; `run_keys`: the rest of the run mapping (e.g. "duration: 5s,
/// seed: 3"); `cell_keys`: extra cell keys, each line indented by four spaces and ending in a
/// newline; `spots`: the robot's spot list lines (ten spaces, "- {...}\n").
inline std::string SmallUr5eCell(const std::string& name, const std::string& physics,
                                 const std::string& run_keys, const std::string& cell_keys,
                                 const std::string& spots) {
  return "ftwin: 1\nname: " + name + "\nrun: {dt: 1ms, " + run_keys +
         "}\nblocks:\n"
         "  - name: cell\n"
         "    type: robot_cell\n"
         "    physics: " +
         physics +
         "\n"
         "    conveyor_length_m: 2.0\n"
         "    conveyor_speed_m_per_s: 0.5\n"
         "    exit_length_m: 1.5\n"
         "    body_size_m: [1.0, 0.6, 0.3]\n"
         "    body_floor_m: 0.1\n"
         "    approach_m: 0.08\n" +
         cell_keys +
         "    robots:\n"
         "      - name: r1\n"
         "        urdf: " +
         std::string(FTWIN_ROBOTS_DATA_DIR) +
         "/ur5e.urdf\n"
         "        base_xyz_m: [0.0, -0.75, 0.0]\n"
         "        base_yaw_rad: 1.5707963267948966\n"
         "        home_rad: [0.0, -1.8, 1.8, -1.57, -1.57, 0.0]\n"
         "        link_radius_m: 0.05\n"
         "        tool: {mass_kg: 1.0, com_m: [0, 0, 0.05], tcp_xyz_m: [0, 0, 0.1]}\n"
         "        spots:\n" +
         spots;
}

}  // namespace ftwin::testing
