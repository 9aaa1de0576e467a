// Right-to-left pages (Arabic, Urdu): GOV.UK Frontend is written left to right with physical
// properties (margin-left, float: left, chevrons drawn to the right). postcss-rtlcss reads the
// built stylesheet and adds a [dir="rtl"] rule mirroring each one, so every component and our
// own styles lay out right to left on pages marked dir="rtl", and stay as they are otherwise.
module.exports = {
  plugins: [require("postcss-rtlcss")({ mode: "override" })],
};
