"""Generated Vietnamese letters for the demo: matters written from templates, names, diacritics dropped.

Every background letter is about a matter of its own (a place, a project, a respondent drawn
from the lists below and sentences drawn from its topic), so that letters group only when the
season means them to: the crowded groups, the refiled matter, the skip-level and circular ones
are the same text written again by other petitioners, some of them typed without diacritics.
All names are invented; none is logged (the log channel writes ids, kinds and types only).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

__all__ = ["Matter", "background_matter", "person_name", "plain", "reword", "special_matter"]

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
           "Ngô", "Dương", "Lý", "K'"]
_MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Đức", "Quang", "Thu", "Xuân", "Kim", "Bảo"]
_GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh",
          "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Trung", "Tuấn", "Yến",
          "Brơm", "Ha Nguyên"]
_COMMUNES = ["Xuân Trường", "Tà Nung", "Lạc Dương", "Đạ Sar", "Hiệp Thạnh", "Phú Hội", "Liên Nghĩa", "Ninh Gia",
             "Tân Hà", "Đinh Văn", "Lộc An", "Đạ Huoai", "Di Linh", "Bảo Thuận", "Gia Hiệp", "Tam Bố", "Đông Thanh",
             "Phúc Thọ", "Lộc Châu", "Đại Lào", "Cát Tiên", "Quảng Lập", "Đạ M'ri", "Mê Linh", "Nam Ban"]
_BODIES = ["Trung tâm Ứng dụng tiến bộ khoa học và công nghệ", "Chi cục Tiêu chuẩn Đo lường Chất lượng",
           "Trung tâm Kỹ thuật tiêu chuẩn đo lường chất lượng", "Phòng Quản lý chuyên ngành",
           "Công ty TNHH Nông nghiệp công nghệ cao {place}", "Hợp tác xã rau hoa {place}",
           "Trạm quan trắc môi trường {place}", "Trung tâm Thông tin và Thống kê khoa học công nghệ"]

#: topic -> (subject template, sentences to choose from); {place}, {body}, {n}, {month} are filled in
_TOPICS: dict[str, tuple[str, list[str]]] = {
    "measurement": ("Khiếu nại về kết quả kiểm định cân tại chợ {place}", [
        "Ngày {n} tháng {month}, đoàn kiểm tra của {body} kết luận chiếc cân đồng hồ của gia đình tôi sai số vượt mức.",
        "Tôi không được chứng kiến việc niêm phong và kiểm định lại chiếc cân tại chợ {place}.",
        "Biên bản ghi sai số nhưng không ghi số hiệu chuẩn đo lường đã dùng để đối chiếu.",
        "Gia đình tôi bị xử phạt hành chính và phải ngừng bán hàng suốt {n} ngày.",
        "Tôi đề nghị kiểm định lại chiếc cân trước mặt các hộ kinh doanh khác của chợ."]),
    "seedlings": ("Phản ánh về giống cây trồng do {body} cung cấp", [
        "Năm vừa qua hợp tác xã chúng tôi nhận {n} nghìn cây giống cà phê ghép từ {body}.",
        "Sau {n} tháng phần lớn số cây bị vàng lá, thối rễ, không phát triển như cam kết.",
        "Cán bộ kỹ thuật đến xem một lần rồi không trả lời bằng văn bản.",
        "Chúng tôi đề nghị làm rõ nguồn gốc giống và bồi thường thiệt hại cho các hộ tại {place}.",
        "Nhiều hộ ở {place} đã vay vốn ngân hàng để trồng lại vườn."]),
    "grant": ("Đề nghị làm rõ việc xét chọn đề tài khoa học cấp tỉnh năm {year}", [
        "Hồ sơ đề tài của nhóm chúng tôi nộp đúng hạn nhưng không có tên trong danh sách xét chọn.",
        "Hội đồng tư vấn xét chọn có thành viên là đồng tác giả của một hồ sơ cạnh tranh.",
        "Chúng tôi chưa nhận được biên bản họp hội đồng dù đã đề nghị từ tháng {month}.",
        "Đề nghị Sở công khai điểm đánh giá của từng hồ sơ theo quy định.",
        "Kinh phí đối ứng của địa phương {place} đã được cam kết bằng văn bản."]),
    "pollution": ("Phản ánh khói bụi và tiếng ồn của cơ sở sấy nông sản ở {place}", [
        "Cơ sở sấy nông sản gần khu dân cư {place} hoạt động cả ban đêm.",
        "Khói từ lò sấy làm nhiều cháu nhỏ trong xóm bị ho kéo dài.",
        "Chúng tôi đã phản ánh với {body} từ tháng {month} nhưng chưa được kiểm tra.",
        "Đề nghị đo đạc chất lượng không khí và tiếng ồn tại {place}.",
        "Cơ sở chưa có giấy phép môi trường theo quy định."]),
    "official": ("Tố cáo cán bộ {body} sách nhiễu khi thẩm định hồ sơ", [
        "Khi nộp hồ sơ công bố hợp chuẩn, cán bộ tiếp nhận yêu cầu bổ sung giấy tờ không có trong quy định.",
        "Cán bộ gợi ý chúng tôi thuê một công ty dịch vụ quen biết để được giải quyết nhanh.",
        "Hồ sơ bị trả lại {n} lần mà không có phiếu hướng dẫn bằng văn bản.",
        "Chúng tôi có tin nhắn và ghi âm làm chứng cứ, sẵn sàng cung cấp cho cơ quan có thẩm quyền.",
        "Đề nghị xác minh và xử lý nghiêm hành vi của cán bộ theo Luật Tố cáo."]),
    "procurement": ("Tố cáo sai phạm trong mua sắm thiết bị của {body}", [
        "Gói thầu mua thiết bị thí nghiệm năm {year} có giá cao gấp đôi giá thị trường.",
        "Nhà thầu trúng thầu là công ty của người thân lãnh đạo đơn vị.",
        "Thiết bị bàn giao tại {place} không đúng chủng loại ghi trong hợp đồng.",
        "Tôi đề nghị thanh tra toàn bộ hồ sơ gói thầu.",
        "Nhiều thiết bị đã hỏng sau {n} tháng sử dụng nhưng không được bảo hành."]),
    "internet": ("Kiến nghị về chất lượng sóng điện thoại và internet ở {place}", [
        "Thôn chúng tôi ở {place} gần như không có sóng điện thoại di động.",
        "Học sinh phải đi {n} cây số để có mạng học trực tuyến.",
        "Đề nghị Sở phối hợp với doanh nghiệp viễn thông lắp thêm trạm phát sóng.",
        "Nhân dân sẵn sàng góp đất để xây trạm.",
        "Đã có ý kiến cử tri về việc này từ tháng {month} năm trước."]),
    "patent": ("Kiến nghị hỗ trợ đăng ký nhãn hiệu tập thể cho nông sản {place}", [
        "Hội nông dân xã {place} muốn đăng ký nhãn hiệu tập thể cho sản phẩm đặc sản của địa phương.",
        "Chúng tôi chưa được hướng dẫn trình tự, thủ tục và kinh phí hỗ trợ.",
        "Đề nghị Sở cử cán bộ về tập huấn cho các hộ sản xuất.",
        "Sản phẩm bị nhái nhãn hiệu bán tại nhiều chợ trong tỉnh.",
        "Hồ sơ đã chuẩn bị từ tháng {month} năm {year}."]),
}
_KIND_TOPICS = {"complaint": ["measurement", "seedlings", "grant"], "denunciation": ["official", "procurement"],
                "petition": ["internet", "patent", "pollution"],
                "letter": ["measurement", "seedlings", "grant", "pollution", "official", "internet", "patent"],
                "reception": ["measurement", "seedlings", "pollution", "internet"]}


@dataclass(frozen=True, slots=True)
class Matter:
    """What one letter says: its subject, content and the body it is about."""

    subject: str
    content: str
    respondent: str


def person_name(rng: random.Random) -> str:
    """An invented Vietnamese full name."""
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


def background_matter(rng: random.Random, kind: str, serial: int) -> Matter:
    """A letter of ``kind`` about a matter of its own (place, body, numbers and sentences drawn)."""
    topic = rng.choice(_KIND_TOPICS[kind])
    subject, sentences = _TOPICS[topic]
    place = f"{rng.choice(_COMMUNES)} {serial}"  # a hamlet number keeps two letters' matters apart
    body = rng.choice(_BODIES).format(place=place)
    picked = rng.sample(sentences, k=rng.randint(3, len(sentences)))
    values = {"place": place, "body": body, "n": rng.randint(2, 28), "month": rng.randint(1, 12),
              "year": rng.choice([2024, 2025])}
    opening = f"Tôi tên là {{name}}, trú tại thôn {serial % 9 + 1}, xã {place}, tỉnh Lâm Đồng."
    text = " ".join([opening, *(s.format(**values) for s in picked)])
    return Matter(subject.format(**values), text, body)


#: the matters the season repeats on purpose (crowded groups, refiled, skip-level, circular, delegation)
_SPECIAL: dict[str, Matter] = {
    "crowded_market": Matter(
        "Khiếu nại việc thu hồi giấy phép kinh doanh tại chợ đầu mối Đà Lạt",
        "Chúng tôi là các tiểu thương chợ đầu mối nông sản phường 9 thành phố Đà Lạt. Chi cục Tiêu chuẩn Đo lường "
        "Chất lượng kết luận các cân điện tử của chúng tôi không đạt yêu cầu kiểm định và đề nghị thu hồi giấy phép "
        "kinh doanh của hơn bốn mươi hộ. Việc kiểm định tiến hành trong một buổi sáng, không có đại diện ban quản lý "
        "chợ chứng kiến, các cân mới mua đều có tem kiểm định còn hạn. Chúng tôi đề nghị Sở tổ chức kiểm định lại "
        "công khai và tạm dừng việc thu hồi giấy phép cho đến khi có kết luận.",
        "Chi cục Tiêu chuẩn Đo lường Chất lượng"),
    "crowded_seed": Matter(
        "Khiếu nại về chất lượng giống khoai tây cấp cho các hộ dân xã Xuân Trường",
        "Chúng tôi là các hộ trồng khoai tây xã Xuân Trường thành phố Đà Lạt tham gia mô hình chuyển giao giống "
        "khoai tây sạch bệnh. Giống do Trung tâm Ứng dụng tiến bộ khoa học và công nghệ cung cấp nảy mầm kém, "
        "nhiều luống bị héo xanh sau một tháng trồng. Trung tâm hứa bồi thường giống vụ sau nhưng đến nay chưa thực "
        "hiện. Chúng tôi đề nghị Sở kiểm tra lô giống đã cấp và bồi thường thiệt hại cho các hộ dân.",
        "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ"),
    "crowded_tower": Matter(
        "Kiến nghị về trạm phát sóng xây dựng sát trường tiểu học thôn Phi Nôm",
        "Chúng tôi là phụ huynh học sinh trường tiểu học thôn Phi Nôm xã Hiệp Thạnh. Doanh nghiệp viễn thông đang "
        "xây dựng trạm phát sóng cách cổng trường chưa đến hai mươi mét mà không lấy ý kiến người dân. Chúng tôi lo "
        "ngại về an toàn bức xạ và an toàn công trình khi mùa mưa bão đến. Chúng tôi đề nghị Sở kiểm tra việc đo "
        "kiểm an toàn bức xạ và công khai kết quả cho nhân dân.",
        "Phòng Quản lý chuyên ngành"),
    "refiled": Matter(
        "Khiếu nại quyết định không công nhận kết quả đề tài nghiên cứu giống cà phê",
        "Tôi là chủ nhiệm đề tài nghiên cứu giống cà phê chè chịu hạn tại huyện Lạc Dương. Hội đồng nghiệm thu kết "
        "luận đề tài không đạt và yêu cầu hoàn trả kinh phí, dù các chỉ tiêu trong thuyết minh đã được thực hiện "
        "đầy đủ. Biên bản nghiệm thu không nêu căn cứ cụ thể của từng ý kiến đánh giá. Tôi đề nghị Giám đốc Sở xem "
        "xét lại quyết định và tổ chức nghiệm thu lại với hội đồng độc lập.",
        "Hội đồng nghiệm thu đề tài cấp tỉnh"),
    "skip_level": Matter(
        "Khiếu nại việc xử phạt cơ sở sản xuất nước đóng chai tại Di Linh",
        "Tôi là chủ cơ sở sản xuất nước uống đóng chai tại thị trấn Di Linh. Đoàn kiểm tra của Chi cục Tiêu chuẩn Đo "
        "lường Chất lượng lập biên bản và xử phạt cơ sở vì nhãn hàng hóa không đúng quy định, trong khi mẫu nhãn đã "
        "được cơ quan chuyên môn hướng dẫn từ trước. Số tiền phạt quá lớn so với quy mô sản xuất của gia đình. Tôi "
        "đề nghị xem xét hủy quyết định xử phạt và hướng dẫn lại việc ghi nhãn.",
        "Chi cục Tiêu chuẩn Đo lường Chất lượng tỉnh Lâm Đồng"),
    "circular": Matter(
        "Khiếu nại việc bồi thường đất làm trạm thực nghiệm giống hoa tại Đà Lạt",
        "Gia đình tôi có đất bị thu hồi để mở rộng trạm thực nghiệm giống hoa của Sở tại phường 7 thành phố Đà Lạt. "
        "Giá bồi thường nhà kính và cây trồng trên đất thấp hơn nhiều so với giá thị trường. Phần diện tích đất vườn "
        "còn lại không còn lối đi nên không thể canh tác. Tôi đề nghị xem xét lại phương án bồi thường và hỗ trợ "
        "cho gia đình tôi.",
        "Ủy ban nhân dân thành phố Đà Lạt"),
    "delegation": Matter(
        "Đoàn đông người phản ánh việc cấp giống cây dược liệu tại Lạc Dương",
        "Đoàn gồm mười hai hộ dân thôn Đạ Nghịt xã Lạc Dương đến trình bày. Các hộ tham gia dự án trồng cây dược "
        "liệu dưới tán rừng nhận giống sâm dây không đúng chủng loại đã ký kết, nhiều diện tích phải trồng lại. "
        "Đơn vị chủ trì dự án không tổ chức họp dân để giải thích. Đoàn đề nghị Sở kiểm tra và trả lời cho các hộ.",
        "Trung tâm Ứng dụng tiến bộ khoa học và công nghệ"),
}


def special_matter(key: str) -> Matter:
    """One of the matters the season repeats on purpose."""
    return _SPECIAL[key]


def plain(text: str) -> str:
    """``text`` typed without diacritics (đ -> d), capitals kept: how many letters arrive."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return stripped.replace("đ", "d").replace("Đ", "D")


def reword(rng: random.Random, matter: Matter, *, singular: bool) -> Matter:
    """The same matter as another petitioner writes it: a sentence moved, small edits, maybe in the singular."""
    sentences = [s.strip() for s in matter.content.split(". ") if s.strip()]
    if len(sentences) > 2 and rng.random() < 0.5:
        first = sentences.pop(1)
        sentences.insert(rng.randrange(1, len(sentences) + 1), first)
    text = ". ".join(s.rstrip(".") for s in sentences) + "."
    text = text.replace("thấp hơn nhiều", "thấp hơn rất nhiều").replace("đến nay", "cho đến nay")
    if singular:
        text = text.replace("Chúng tôi là các", "Tôi là một trong các").replace("Chúng tôi đề nghị", "Tôi đề nghị")
    return Matter(matter.subject, text, matter.respondent)
